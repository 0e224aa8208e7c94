// Drops comments and indentation from the site's scripts and style sheet:
// bytes every first visit downloads (a host may not compress them), while
// web/ keeps the commented sources.
//
//   node web/tools/trim-text.js FILE...      (rewrites each in place)
//
// JavaScript goes through acorn's tokenizer (Debian's node-acorn, which
// em++ needs anyway): every token is kept as it is, and what lies between
// two tokens (blanks, comments) becomes one newline if it held a line break
// (automatic semicolon insertion sees the same lines; none after { ( [ , ;
// : or before } ) ] , ; : . where a break cannot end a statement), or one
// space where the two tokens would otherwise run together, else nothing. The
// result must parse to the same syntax tree as the source, or the file is
// left alone and the build fails. CSS: comments and indentation only; HTML
// (without pre, textarea or inline scripts): the same.
'use strict';
const fs = require('fs');
const path = require('path');
const acorn = require('acorn');

const OPTIONS = { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true };

// After these a line break never ends a statement, and before these it
// never starts one: there the break can go.
const JOINS_AFTER = new Set(['{', '(', '[', ',', ';', ':']);
const JOINS_BEFORE = new Set(['}', ')', ']', ',', ';', ':', '.']);

// Whether two tokens written without a space between would read as other
// tokens: two words or numbers, `+ +`, `- -`, `/ /` or `/ *` (a comment),
// `1 .x`, `< !`.
const WORD = /[\w$\\\u0080-\uffff]/;
function needsSpace(before, after, beforeIsNumber) {
  const a = before[before.length - 1], b = after[0];
  return (WORD.test(a) && WORD.test(b)) || (a === b && '+-/'.includes(a)) || (a === '/' && b === '*') ||
    (beforeIsNumber && b === '.') || (a === '<' && b === '!') || (a === '-' && b === '>');
}

function trimJs(source) {
  const out = [];
  let last = 0, previous = null, previousIsNumber = false;
  for (const token of acorn.tokenizer(source, OPTIONS)) {
    const gap = source.slice(last, token.start), text = source.slice(token.start, token.end);
    if (previous !== null && gap.length) {
      if (/[\n\r\u2028\u2029]/.test(gap)) {
        if (!JOINS_AFTER.has(previous) && !JOINS_BEFORE.has(text)) out.push('\n');
        else if (needsSpace(previous, text, previousIsNumber)) out.push(' ');
      } else if (needsSpace(previous, text, previousIsNumber)) {
        out.push(' ');
      }
    }
    out.push(text);
    // A string or template is never a joining punctuator ("{" as a string).
    previous = token.type.label === 'string' || token.type.label === 'template' ? `"${text}"` : text;
    previousIsNumber = token.type.label === 'num';
    last = token.end;
  }
  return `${out.join('')}\n`;
}

// The syntax tree without positions: equal trees mean the same program.
function shape(source) {
  return JSON.stringify(acorn.parse(source, OPTIONS), (key, value) =>
    (key === 'start' || key === 'end' || key === 'loc' || key === 'range' ? undefined : value));
}

const trimLines = (text) => `${text.split('\n').map((l) => l.trim()).filter((l) => l).join('\n')}\n`;
const trimCss = (source) => trimLines(source.replace(/\/\*[\s\S]*?\*\//g, ''));

let failed = false;
for (const file of process.argv.slice(2)) {
  const source = fs.readFileSync(file, 'utf8');
  let trimmed;
  if (path.extname(file) === '.js') {
    trimmed = trimJs(source);
    if (shape(trimmed) !== shape(source)) {
      console.error(`trim-text: ${file}: the trimmed script parses differently; left as it is`);
      failed = true;
      continue;
    }
  } else if (path.extname(file) === '.css') {
    if (/["']\/\*|\*\/["']/.test(source)) {
      console.error(`trim-text: ${file}: a string holds a comment marker; left as it is`);
      failed = true;
      continue;
    }
    trimmed = trimCss(source);
  } else if (path.extname(file) === '.html') {
    if (/<(pre|textarea)\b|<script\b[^>]*>[^<]/i.test(source)) {
      console.error(`trim-text: ${file}: white space may matter (pre, textarea or inline script); left as it is`);
      failed = true;
      continue;
    }
    trimmed = trimLines(source.replace(/<!--[\s\S]*?-->/g, ''));
  } else {
    console.error(`trim-text: ${file}: neither .js, .css nor .html`);
    failed = true;
    continue;
  }
  fs.writeFileSync(`${file}.tmp`, trimmed);
  fs.renameSync(`${file}.tmp`, file);
}
process.exit(failed ? 1 : 0);
