// The configuration most integration tests run: one pipeline, "app", that
// tails <dir>/in/*.log from the beginning into a Kinesis sink, with the
// admin endpoint on 127.0.0.1 (a free port unless `admin` names one).
//
//   const config = writeFileToKinesisConfig(dir, {
//     endpoint, stream,
//     top: ['shutdown_timeout: 30s'],            // global options
//     input: ['parser: json'],                   // more options of the file input
//     pipeline: ['partition_key: "{seq}"'],      // more options of the pipeline
//     sink: ['pacing: false'],                   // more options of the sink
//   });                                          // -> <dir>/kinship.yaml
//
// Each list holds YAML lines as they would be written at their level; the
// function indents them. <dir>/in is created.

import fs from 'node:fs';
import path from 'node:path';

const indented = (lines, spaces) => lines.map((l) => `${' '.repeat(spaces)}${l}\n`).join('');

export function writeFileToKinesisConfig(dir, { endpoint, stream, region = 'us-east-1', top = [], input = [],
  pipeline = [], sink = [], admin = '127.0.0.1:0' }) {
  fs.mkdirSync(path.join(dir, 'in'), { recursive: true });
  const file = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(
    file,
    `data_dir: ${dir}/state
${indented(top, 0)}pipelines:
  app:
    inputs:
      - type: file
        paths: ["${dir}/in/*.log"]
        start_at: beginning
${indented(input, 8)}${indented(pipeline, 4)}    sink:
      type: kinesis
      stream: ${stream}
      region: ${region}
      endpoint: ${endpoint}
${indented(sink, 6)}admin:
  listen: ${admin}
`,
  );
  return file;
}
