// Testing Sluice topologies without a broker. Import from 'core/testing/index.ts'.
export { TopologyTestDriver, type TestRecord, type TestDeadLetter } from './driver.ts';
export { TaskContext, withTaskContext } from '../state/context.ts';
