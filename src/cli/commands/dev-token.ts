import { readDevToken } from "../../authority/dev-token.ts";
import { outrigHome } from "../../core/paths.ts";
import type { Command } from "../command.ts";

export const devTokenCommand: Command = {
  name: "dev-token",
  summary: "Print the development admin token of the local core (loopback only)",
  usage: `Usage: outrig dev-token

Prints the token a core on a loopback address wrote to $OUTRIG_HOME/dev-token (mode 0600)
at start; it is valid until that core stops. Use it as a Bearer token:

  curl -H "Authorization: Bearer $(npx outrig dev-token)" localhost:8080/admin/modules`,
  async run() {
    const home = outrigHome();
    const token = await readDevToken(home);
    if (!token) {
      console.error(
        `outrig dev-token: no development token in ${home}: is a core running on a loopback address?`,
      );
      return 1;
    }
    console.log(token);
    return 0;
  },
};
