// Runs the client's link check (src/links.js) in Node on each link of the JSON list argv[2]
// and prints, in order, whether each may become an href.
import { safeLink } from "../src/links.js";

const links = JSON.parse(process.argv[2]);
console.log(JSON.stringify(links.map((link) => safeLink(link) === link)));
