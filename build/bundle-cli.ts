/** `npm run build`: writes dist/functions/<name>/index.mjs (+ .map) for every function. */
import { bundleFunctions } from './bundle.js';

for (const bundle of await bundleFunctions()) {
  console.log(
    `${bundle.name.padEnd(10)} ${(bundle.bytes / 1024).toFixed(1).padStart(8)} KiB  sha256 ${bundle.sha256.slice(0, 16)}  ${bundle.file}`,
  );
}
