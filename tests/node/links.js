// Parse feed files with rss-parser, as a newsroom's Node code would, and print what it reads:
// {"<file>": {"items": [{"id", "link", "title", "enclosure"}]}} as JSON on stdout.
"use strict";
const fs = require("fs");
const Parser = require("rss-parser");

async function main(files) {
  const parser = new Parser();
  const out = {};
  for (const file of files) {
    const feed = await parser.parseString(fs.readFileSync(file, "utf8"));
    out[file] = {
      items: feed.items.map((item) => ({
        id: item.guid || item.id || null,
        link: item.link || null,
        title: item.title || null,
        enclosure: item.enclosure ? item.enclosure.url : null,
      })),
    };
  }
  process.stdout.write(JSON.stringify(out));
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
