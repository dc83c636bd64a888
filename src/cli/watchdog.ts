// dist/watchdog.js: the orphan-proofing watchdog process (see src/server/groupWatchdog.ts).
import { runWatchdogProcess } from '../server/groupWatchdog';

runWatchdogProcess();
