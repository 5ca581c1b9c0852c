/** Scaffolding of new modules (`outrig module init`). */
export { PROFILE_TEMPLATES, type ProfileTemplate } from "./profiles.ts";
export {
  MANIFEST_FILE,
  ScaffoldError,
  type ScaffoldOptions,
  type ScaffoldResult,
  scaffoldModule,
} from "./scaffold.ts";
