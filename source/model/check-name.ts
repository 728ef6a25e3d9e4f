// How a check is called on screens, in events and in the report (its own name,
// or one its type makes from its parameters), and the TCP port it talks to.
// Each check type defines both in its file under services/checks/.
export {checkName, checkPort} from '../services/checks/registry.js';
