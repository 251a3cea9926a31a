// Does this browser have WebGPU at all? Asks headless Chromium (SwiftShader on machines without
// a GPU) for an adapter and a device, runs one small compute shader and prints what it got.
// Needs no wasm build: it is useful on its own when the forward tests fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, assertNoProblems, screenshot, BLANK_PAGE } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('Chromium gives a WebGPU adapter and device that compute', { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url + BLANK_PAGE);
  const got = await page.evaluate(async () => {
    if (!('gpu' in navigator)) return { hasGpu: false, secure: isSecureContext };
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { hasGpu: true, adapter: null };
    const i = adapter.info ?? {};
    const info = {
      vendor: i.vendor,
      architecture: i.architecture,
      device: i.device,
      description: i.description,
    };
    const isFallbackAdapter = i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? null;
    const L = adapter.limits;
    const limits = {
      maxBufferSize: L.maxBufferSize,
      maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
      maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    };
    const features = [...adapter.features].sort();

    // One compute pass: out[i] = 2 * in[i] + 1.
    const device = await adapter.requestDevice();
    const n = 1000;
    const input = new Float32Array(n).map((_, k) => k);
    const module = device.createShaderModule({
      code: `
        @group(0) @binding(0) var<storage, read> src: array<f32>;
        @group(0) @binding(1) var<storage, read_write> dst: array<f32>;
        @compute @workgroup_size(64)
        fn main(@builtin(global_invocation_id) id: vec3<u32>) {
          if (id.x < arrayLength(&src)) { dst[id.x] = 2.0 * src[id.x] + 1.0; }
        }`,
    });
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const bytes = n * 4;
    const src = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(src, 0, input);
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: src } },
        { binding: 1, resource: { buffer: dst } },
      ],
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    enc.copyBufferToBuffer(dst, 0, read, 0, bytes);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    let wrong = 0;
    for (let k = 0; k < n; k++) if (out[k] !== 2 * k + 1) wrong++;
    device.destroy();
    return { hasGpu: true, adapter: { info, isFallbackAdapter, limits, features }, wrong, n };
  });

  console.log(`navigator.gpu: ${got.hasGpu}`);
  console.log(`adapter: ${JSON.stringify(got.adapter, null, 1).replace(/\n\s*/g, ' ')}`);
  await screenshot(page, 'webgpu');
  assertNoProblems(page);
  assert.ok(got.hasGpu, `navigator.gpu is missing (secure context: ${got.secure})`);
  assert.ok(got.adapter, 'navigator.gpu.requestAdapter() gave null: no WebGPU adapter');
  assert.equal(got.wrong, 0, `${got.wrong} of ${got.n} values wrong from the compute shader`);
  await page.close();
});
