import { EnvironmentConfigRead, GetEnvironmentInfo } from '../../protocol/methods';
import type { EnvironmentInfo } from '../../protocol/environmentTypes';
import { handle, methodTable, type MethodTable } from '../connection/methodTable';
import { readEnvironmentConfig, type EnvironmentConfigLocations } from './environmentConfig';

/** environment/info (its params are ignored, as upstream) and environmentConfig/read. */
export function createEnvironmentMethods(info: () => EnvironmentInfo, loc?: EnvironmentConfigLocations): MethodTable {
  return methodTable(
    handle(GetEnvironmentInfo, () => info()),
    handle(EnvironmentConfigRead, (params) => readEnvironmentConfig(params, loc)),
  );
}
