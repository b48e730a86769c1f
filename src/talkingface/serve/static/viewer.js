// A small WebGL viewer for the .glb files talkingface writes: one mesh, morph targets, and an
// animation of the morph weights (and of the node's rotation and translation when present).
// Drag to turn the face; the animation loops. No library: the format's few parts we use are read here.
"use strict";

const COMPONENTS = { 5126: Float32Array, 5125: Uint32Array, 5123: Uint16Array, 5121: Uint8Array };
const WIDTH = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4 };

export function parseGlb(buffer) {
  const view = new DataView(buffer);
  if (view.getUint32(0, true) !== 0x46546c67) throw new Error("not a .glb file");
  let offset = 12, json = null, bin = null;
  while (offset + 8 <= buffer.byteLength) {
    const length = view.getUint32(offset, true), type = view.getUint32(offset + 4, true);
    const chunk = buffer.slice(offset + 8, offset + 8 + length);
    if (type === 0x4e4f534a) json = JSON.parse(new TextDecoder().decode(chunk));
    else if (type === 0x004e4942) bin = chunk;
    offset += 8 + length;
  }
  if (!json || !bin) throw new Error("a .glb needs its JSON and BIN chunks");
  const read = (index) => {
    const accessor = json.accessors[index], bufferView = json.bufferViews[accessor.bufferView];
    const Type = COMPONENTS[accessor.componentType];
    const start = (bufferView.byteOffset || 0) + (accessor.byteOffset || 0);
    return new Type(bin, start, accessor.count * WIDTH[accessor.type]);
  };
  const primitive = json.meshes[0].primitives[0];
  const model = {
    positions: read(primitive.attributes.POSITION),
    indices: primitive.indices !== undefined ? read(primitive.indices) : null,
    targets: (primitive.targets || []).map((t) => read(t.POSITION)),
    names: (json.meshes[0].extras || {}).targetNames || [],
    tracks: [],
    duration: 0,
  };
  for (const channel of (json.animations || [{ channels: [] }])[0].channels) {
    const sampler = json.animations[0].samplers[channel.sampler];
    const times = read(sampler.input), values = read(sampler.output);
    model.tracks.push({ path: channel.target.path, times, values, step: sampler.interpolation === "STEP",
      width: values.length / times.length });
    model.duration = Math.max(model.duration, times[times.length - 1] || 0);
  }
  return model;
}

function sample(track, t) {
  const { times, values, width } = track;
  let k = 0;
  while (k + 1 < times.length && times[k + 1] <= t) k++;
  const out = new Float32Array(width);
  const next = Math.min(k + 1, times.length - 1);
  const span = times[next] - times[k];
  const a = track.step || span <= 0 ? 0 : Math.min(1, Math.max(0, (t - times[k]) / span));
  for (let i = 0; i < width; i++) out[i] = values[k * width + i] * (1 - a) + values[next * width + i] * a;
  return out;
}

function normalsOf(positions, indices) {
  const normals = new Float32Array(positions.length);
  for (let f = 0; f < indices.length; f += 3) {
    const [a, b, c] = [indices[f] * 3, indices[f + 1] * 3, indices[f + 2] * 3];
    const ux = positions[b] - positions[a], uy = positions[b + 1] - positions[a + 1], uz = positions[b + 2] - positions[a + 2];
    const vx = positions[c] - positions[a], vy = positions[c + 1] - positions[a + 1], vz = positions[c + 2] - positions[a + 2];
    const nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    for (const v of [a, b, c]) { normals[v] += nx; normals[v + 1] += ny; normals[v + 2] += nz; }
  }
  return normals;
}

function multiply(a, b) {
  const out = new Float32Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += a[k * 4 + j] * b[i * 4 + k];
    out[i * 4 + j] = s;
  }
  return out;
}

function rotationMatrix(q) {
  const [x, y, z, w] = q, n = Math.hypot(x, y, z, w) || 1;
  const [a, b, c, d] = [x / n, y / n, z / n, w / n];
  return new Float32Array([
    1 - 2 * (b * b + c * c), 2 * (a * b + c * d), 2 * (a * c - b * d), 0,
    2 * (a * b - c * d), 1 - 2 * (a * a + c * c), 2 * (b * c + a * d), 0,
    2 * (a * c + b * d), 2 * (b * c - a * d), 1 - 2 * (a * a + b * b), 0,
    0, 0, 0, 1]);
}

const VERTEX = `attribute vec3 position; attribute vec3 normal;
uniform mat4 model; uniform mat4 view; uniform mat4 projection; varying vec3 shade;
void main() {
  vec3 n = normalize(mat3(view * model) * normal);
  float light = 0.25 + 0.75 * max(dot(n, normalize(vec3(0.3, 0.5, 1.0))), 0.0);
  shade = vec3(0.93, 0.76, 0.66) * light;
  gl_Position = projection * view * model * vec4(position, 1.0);
}`;
const FRAGMENT = `precision mediump float; varying vec3 shade; void main() { gl_FragColor = vec4(shade, 1.0); }`;

export class GlbViewer {
  constructor(canvas) {
    this.canvas = canvas;
    const gl = canvas.getContext("webgl", { antialias: true, preserveDrawingBuffer: true });
    if (!gl) throw new Error("this browser has no WebGL");
    gl.getExtension("OES_element_index_uint");
    this.gl = gl;
    const compile = (type, source) => {
      const shader = gl.createShader(type);
      gl.shaderSource(shader, source);
      gl.compileShader(shader);
      return shader;
    };
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    this.program = program;
    this.yaw = 0; this.pitch = 0; this.frames = 0; this.playing = true;
    let drag = null;
    canvas.addEventListener("pointerdown", (e) => { drag = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointerup", () => { drag = null; });
    canvas.addEventListener("pointermove", (e) => {
      if (!drag) return;
      this.yaw += (e.clientX - drag[0]) * 0.01;
      this.pitch = Math.max(-1.4, Math.min(1.4, this.pitch + (e.clientY - drag[1]) * 0.01));
      drag = [e.clientX, e.clientY];
    });
  }

  load(model) {
    const gl = this.gl;
    this.model = model;
    this.count = model.positions.length / 3;
    if (!model.indices) model.indices = Uint32Array.from({ length: this.count }, (_, i) => i);
    const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    for (let v = 0; v < model.positions.length; v += 3) for (let i = 0; i < 3; i++) {
      lo[i] = Math.min(lo[i], model.positions[v + i]); hi[i] = Math.max(hi[i], model.positions[v + i]);
    }
    this.centre = lo.map((l, i) => (l + hi[i]) / 2);
    this.radius = Math.max(...hi.map((h, i) => h - lo[i])) || 1;
    this.positionBuffer = gl.createBuffer();
    this.normalBuffer = gl.createBuffer();
    this.indexBuffer = gl.createBuffer();
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.indexBuffer);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, Uint32Array.from(model.indices), gl.STATIC_DRAW);
    this.start = performance.now();
    if (!this.running) { this.running = true; requestAnimationFrame(() => this.draw()); }
  }

  pose(t) {
    const model = this.model, positions = Float32Array.from(model.positions);
    let matrix = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    let translation = [0, 0, 0];
    for (const track of model.tracks) {
      const value = sample(track, t);
      if (track.path === "weights") {
        value.forEach((w, k) => {
          if (Math.abs(w) < 1e-4 || !model.targets[k]) return;
          const target = model.targets[k];
          for (let i = 0; i < positions.length; i++) positions[i] += w * target[i];
        });
      } else if (track.path === "rotation") matrix = rotationMatrix(value);
      else if (track.path === "translation") translation = Array.from(value);
    }
    matrix[12] = translation[0]; matrix[13] = translation[1]; matrix[14] = translation[2];
    return { positions, matrix };
  }

  draw() {
    const gl = this.gl, canvas = this.canvas;
    const t = this.model.duration ? ((performance.now() - this.start) / 1000) % this.model.duration : 0;
    this.time = t;
    const { positions, matrix } = this.pose(t);
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.clearColor(0.12, 0.13, 0.15, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    gl.enable(gl.DEPTH_TEST);
    gl.useProgram(this.program);
    const attribute = (name, buffer, data) => {
      const location = gl.getAttribLocation(this.program, name);
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
      gl.bufferData(gl.ARRAY_BUFFER, data, gl.DYNAMIC_DRAW);
      gl.enableVertexAttribArray(location);
      gl.vertexAttribPointer(location, 3, gl.FLOAT, false, 0, 0);
    };
    attribute("position", this.positionBuffer, positions);
    attribute("normal", this.normalBuffer, normalsOf(positions, this.model.indices));
    const [cx, cy, cz] = this.centre, r = this.radius;
    const turn = multiply(rotationMatrix([Math.sin(this.pitch / 2), 0, 0, Math.cos(this.pitch / 2)]),
      rotationMatrix([0, Math.sin(this.yaw / 2), 0, Math.cos(this.yaw / 2)]));
    const recentre = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, -cx, -cy, -cz, 1]);
    const back = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -2.2 * r, 1]);
    const view = multiply(back, multiply(turn, recentre));
    const f = 1 / Math.tan(0.35), aspect = canvas.width / canvas.height, near = 0.05 * r, far = 10 * r;
    const projection = new Float32Array([f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) / (near - far), -1,
      0, 0, (2 * far * near) / (near - far), 0]);
    for (const [name, value] of [["model", matrix], ["view", view], ["projection", projection]]) {
      gl.uniformMatrix4fv(gl.getUniformLocation(this.program, name), false, value);
    }
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.indexBuffer);
    gl.drawElements(gl.TRIANGLES, this.model.indices.length, gl.UNSIGNED_INT, 0);
    this.frames++;
    requestAnimationFrame(() => this.draw());
  }
}
