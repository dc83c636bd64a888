// dist/watchdog.js: the orphan-proofing watchdog process (see src/server/process/groupWatchdog.ts).
import { runWatchdogProcess } from '../server/process/groupWatchdog';

runWatchdogProcess();
