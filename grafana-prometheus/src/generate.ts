// npm run generate: writes every dashboard of dashboards.ts to grafana/dashboards/.
import * as fs from "node:fs";
import * as path from "node:path";

import { DASHBOARD_DIR, render } from "./render";

fs.mkdirSync(DASHBOARD_DIR, { recursive: true });
for (const [file, text] of render()) {
  fs.writeFileSync(path.join(DASHBOARD_DIR, file), text);
  console.log(`wrote grafana/dashboards/${file}`);
}
