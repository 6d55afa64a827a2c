// Splits a synthetic region's settlements.csv for the browser test (scripts/browser-test.sh):
// every row goes to <out>/import.csv except hospital A's lists discharged in the held-back month,
// which go to <out>/holdback-<A>-<month>.csv (the file the test uploads through the UI). Rows
// are copied byte for byte (quoted fields with commas or newlines included); nothing is dropped:
// import + holdback = input, checked before writing. Also writes the list ids of hospitals A
// and B (all years) as JSON for the isolation test.
//
// usage: node holdback.mjs <settlements.csv> <hospital A> <hospital B> <YYYY-MM> <out dir>
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [file, hA, hB, month, out] = process.argv.slice(2);
if (!out || !/^\d{4}-\d{2}$/.test(month)) {
  console.error('用法：node holdback.mjs <settlements.csv> <医院A> <医院B> <YYYY-MM> <输出目录>');
  process.exit(2);
}

/** CSV records with their raw text: [{ raw, fields }] (RFC 4180 quoting). */
function records(text) {
  const recs = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    const fields = [];
    let field = '';
    let quoted = false;
    for (;;) {
      const c = text[i];
      if (quoted) {
        if (c === undefined) throw new Error(`第 ${recs.length + 1} 条记录的引号未闭合`);
        if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
        if (c === '"') { quoted = false; i += 1; continue; }
        field += c; i += 1; continue;
      }
      if (c === '"' && field === '') { quoted = true; i += 1; continue; }
      if (c === ',') { fields.push(field); field = ''; i += 1; continue; }
      if (c === '\n' || c === '\r' || c === undefined) {
        fields.push(field);
        if (c === '\r' && text[i + 1] === '\n') i += 1;
        if (c !== undefined) i += 1;
        break;
      }
      field += c; i += 1;
    }
    recs.push({ raw: text.slice(start, i), fields });
  }
  return recs;
}

const text = readFileSync(file, 'utf8');
const recs = records(text.replace(/^\uFEFF/, ''));
const header = recs.shift();
const col = (...names) => {
  const k = header.fields.findIndex((h) => names.includes(h.trim()));
  if (k < 0) throw new Error(`${file}：找不到列 ${names.join(' / ')}`);
  return k;
};
const cId = col('list_id', '清单流水号');
const cHosp = col('hospital_code', '定点医药机构编号');
const cDis = col('discharge_time', '出院时间');

const keep = [header.raw];
const held = [header.raw];
const idsA = [];
const idsB = [];
let rows = 0;
for (const r of recs) {
  if (r.fields.length === 1 && r.fields[0].trim() === '') continue; // a blank line is no record
  rows += 1;
  const h = r.fields[cHosp].trim();
  const id = r.fields[cId].trim();
  if (h === hA) idsA.push(id);
  if (h === hB) idsB.push(id);
  if (h === hA && r.fields[cDis].trim().slice(0, 7) === month) held.push(r.raw);
  else keep.push(r.raw);
}
const withEol = (lines) => lines.map((l) => (/\r?\n$/.test(l) ? l : `${l}\n`)).join('');
if (keep.length - 1 + held.length - 1 !== rows) throw new Error('拆分后行数不等于原文件行数');
if (held.length < 2) throw new Error(`医院 ${hA} 在 ${month} 没有出院病例，无法留出上传文件`);
if (idsB.length === 0) throw new Error(`医院 ${hB} 没有结算清单`);
mkdirSync(out, { recursive: true });
const heldFile = join(out, `holdback-${hA}-${month}.csv`);
writeFileSync(join(out, 'import.csv'), withEol(keep));
writeFileSync(heldFile, withEol(held));
writeFileSync(join(out, 'list-ids-A.json'), JSON.stringify(idsA));
writeFileSync(join(out, 'list-ids-B.json'), JSON.stringify(idsB));
console.log(JSON.stringify({ rows, imported: keep.length - 1, heldBack: held.length - 1, heldFile, listsA: idsA.length, listsB: idsB.length }));
