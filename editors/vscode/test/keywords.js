// Every keyword of the grammar (crates/pal-engine/grammar/pal.pest: each `kw_NAME` rule, the
// clock states and the duration units) is highlighted by some pattern of the TextMate grammar:
// a keyword added to the language without a colour fails this check.
'use strict';

const fs = require('fs');
const path = require('path');

const pest = fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'crates', 'pal-engine', 'grammar', 'pal.pest'),
  'utf8'
);
const grammar = fs.readFileSync(path.join(__dirname, '..', 'syntaxes', 'pal.tmLanguage.json'), 'utf8');

const words = new Set();
for (const m of pest.matchAll(/^kw_\w+\s*=\s*@\{\s*"(\w+)"/gm)) words.add(m[1]);
const states = pest.match(/clock_status\s*=\s*@\{([^}]*)\}/);
for (const m of (states ? states[1] : '').matchAll(/"(\w+)"/g)) words.add(m[1]);
if (words.size < 40) {
  console.error(`found only ${words.size} keywords in pal.pest: has its layout changed?`);
  process.exit(1);
}

// The words the grammar's patterns name (alternatives of its regular expressions).
const named = new Set(grammar.match(/[A-Za-z_]+/g));
const missing = [...words].filter((w) => !named.has(w)).sort();
if (missing.length > 0) {
  console.error(`keywords of pal.pest with no pattern in syntaxes/pal.tmLanguage.json: ${missing.join(', ')}`);
  process.exit(1);
}
console.log(`keywords: all ${words.size} keywords of pal.pest are in the TextMate grammar`);
