// Reads weaksup shard files with Arrow's JavaScript implementation and prints
// one JSON document per file: the schema and every row, with the image as its
// SHA-256. The Go e2e test compares this with what it wrote.
//
// usage: node read.mjs FILE.arrow...
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tableFromIPC, compressionRegistry, CompressionType } from 'apache-arrow';
import { decompress } from 'fzstd';

compressionRegistry.set(CompressionType.ZSTD, { decode: (data) => decompress(data) });

const list = (v) => (v == null ? [] : Array.from(v.toArray ? v.toArray() : v));

for (const file of process.argv.slice(2)) {
  const table = tableFromIPC(readFileSync(file));
  const col = (name) => table.getChild(name);
  const rows = [];
  for (let i = 0; i < table.numRows; i++) {
    const image = col('image').get(i);
    rows.push({
      key: col('key').get(i),
      image_sha256: createHash('sha256').update(image).digest('hex'),
      image_len: image.length,
      width: col('width').get(i),
      height: col('height').get(i),
      labels: list(col('labels').get(i)).map(Number),
      tags: list(col('tags').get(i)),
      raw_tags: list(col('raw_tags').get(i)),
      url: col('url').get(i),
      phash: col('phash').get(i).toString(),
      sha256: Buffer.from(col('sha256').get(i)).toString('hex'),
    });
  }
  const schema = table.schema.fields.map((f) => `${f.name}:${f.type}`);
  process.stdout.write(JSON.stringify({ file, batches: table.batches.length, schema, rows }) + '\n');
}
