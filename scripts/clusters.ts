import "../test/env/cli.ts";
