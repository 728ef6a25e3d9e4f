// The quoting is pure and lives in the model (the plan fills install commands with it).
export {shellQuote} from '../model/shell-quote.js';
