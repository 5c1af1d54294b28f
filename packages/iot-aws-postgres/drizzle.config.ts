import { defineConfig } from "drizzle-kit";

/** Every file of `src/schema/` is part of the `iotaws_*` schema; each feature adds its own file. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/schema/*.ts",
  out: "./drizzle",
});
