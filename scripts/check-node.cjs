// Stops an npm script at once when the Node on PATH is older than package.json's engines.node, saying which Node
// is needed and how to get it, instead of failing later on something that Node cannot load (our .ts files:
// ERR_UNKNOWN_FILE_EXTENSION). It runs under whatever Node is there, so it is plain old JavaScript. `--quiet`: the
// exit code only (scripts/node-env.sh asks it whether the Node on PATH will do).
"use strict";
var pkg = require("../package.json");

var wanted = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(pkg.engines && pkg.engines.node);
if (!wanted) {
  console.error("scripts/check-node.cjs reads only \">=X.Y.Z\" from package.json engines.node, which is " + JSON.stringify(pkg.engines && pkg.engines.node));
  process.exit(2);
}
var need = [Number(wanted[1]), Number(wanted[2] || 0), Number(wanted[3] || 0)];
var have = process.versions.node.split(".").map(Number);

function atLeast(a, b) {
  for (var i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

if (!atLeast(have, need)) {
  if (process.argv.indexOf("--quiet") === -1) {
    console.error(
      "wa-monitor needs Node " + pkg.engines.node + " (Node 24 recommended); this is Node " + process.versions.node +
        " (" + process.execPath + ").\n" +
        "Get it with:\n\n    " + pkg.engines.getNode + "\n\n" +
        "(it puts Node 24 from the npm registry first on PATH in this shell; with nvm, `nvm install` reads .nvmrc), " +
        "then run the command again."
    );
  }
  process.exit(1);
}
