/** Entry point of the echo module process; the definition lives in module.ts. */
import { runModule } from "outrig/sdk";
import { echoModule } from "./module.ts";

await runModule(echoModule).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
