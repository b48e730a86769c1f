// Validates .glb files with Khronos' glTF validator and prints one JSON line per file:
// {"file", "errors", "warnings", "messages": [first codes]}. Usage: node validate_gltf.cjs DIR FILE...
// DIR is the folder whose node_modules holds gltf-validator (`make test` installs it there).
const path = require("path");
const fs = require("fs");
const validator = require(path.resolve(process.argv[2], "node_modules", "gltf-validator"));

(async () => {
  for (const file of process.argv.slice(3)) {
    const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)));
    const issues = report.issues;
    const messages = issues.messages.slice(0, 5).map((m) => `${m.code}: ${m.message}`);
    console.log(JSON.stringify({ file, errors: issues.numErrors, warnings: issues.numWarnings, messages }));
  }
})();
