// The page: a client of the service's own HTTP API (/api), nothing more.
"use strict";
import { GlbViewer, parseGlb } from "/static/viewer.js";

const $ = (id) => document.getElementById(id);
let methods = [], checkpoints = [], current = null, timer = null, examples = null;

async function api(path, options) {
  const response = await fetch(path, options);
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.detail || `${response.status} ${response.statusText}`);
  return body;
}

function method() { return methods.find((m) => m.name === $("method").value); }

function showMethod() {
  const m = method();
  showExamples();
  $("method-help").textContent = m.help;
  $("face-field").hidden = !m.face;
  $("face-label").textContent = m.face === "video" ? "Video (with its own sound)" : "Face";
  $("face-drop-text").textContent = m.face === "video" ?
    "Drop a video with its own sound here, or choose one" : "Drop a photo or video here, or choose one";
  $("face").accept = m.face === "video" ? "video/*" : "image/*,video/*";
  $("options-field").hidden = m.options.length === 0;
  $("speech-field").hidden = !m.speech;
  $("checkpoint-field").hidden = !m.checkpoint;
  const select = $("checkpoint");
  select.replaceChildren();
  if (m.checkpoint === "optional") select.append(new Option("none (built-in)", ""));
  for (const c of checkpoints) select.append(new Option(c.name, c.name));
  $("checkpoint-help").textContent = checkpoints.length ? "" :
    m.checkpoint === "required" ? "No checkpoint on this server: start it with --checkpoints DIR." : "";
  const box = $("options");
  box.replaceChildren();
  for (const o of m.options) {
    const label = document.createElement("label");
    label.textContent = o.name.replaceAll("_", " ");
    label.htmlFor = `option-${o.name}`;
    let input;
    if (o.kind === "choice") {
      input = document.createElement("select");
      for (const c of o.choices) input.append(new Option(c, c, c === o.default, c === o.default));
    } else {
      input = document.createElement("input");
      input.type = o.kind === "bool" ? "checkbox" : "number";
      if (o.kind === "bool") input.checked = o.default;
      else {
        input.value = o.default ?? ""; input.placeholder = o.none ?? "";
        input.min = o.min; input.max = o.max; input.step = o.kind === "int" ? 1 : "any";
      }
    }
    input.id = `option-${o.name}`;
    input.dataset.option = o.name;
    input.dataset.kind = o.kind;
    input.title = o.help;
    box.append(label, input);
  }
}

function options() {
  const chosen = {};
  for (const input of $("options").querySelectorAll("[data-option]")) {
    const kind = input.dataset.kind;
    if ((kind === "int" || kind === "float") && input.value === "") continue;  // the option's own default
    chosen[input.dataset.option] = kind === "bool" ? input.checked : kind === "choice" ? input.value : Number(input.value);
  }
  return chosen;
}

function preview(input, box) {
  box.replaceChildren();
  const file = input.files[0];
  if (!file || !box) return;
  const kind = file.type.startsWith("video") ? "video" : file.type.startsWith("audio") ? "audio" : "img";
  const element = document.createElement(kind);
  element.src = URL.createObjectURL(file);
  if (kind === "video") element.muted = true;
  if (kind === "audio") element.controls = true;  // hear the chosen speech before the job starts
  box.append(element);
}

function dropZone(zone, input, onChange) {
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) { input.files = e.dataTransfer.files; onChange(); }
  });
  input.addEventListener("change", onChange);
}

async function start(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  const m = method(), form = new FormData();
  form.append("method", m.name);
  if (m.face) {
    if (!$("face").files[0]) { $("form-error").textContent = "Choose a face first."; return; }
    form.append("face", $("face").files[0]);
  }
  if (m.speech) {
    if (document.querySelector("[name=speech-source]:checked").value === "text") {
      if (!$("text").value.trim()) { $("form-error").textContent = "Type what the face says."; return; }
      form.append("text", $("text").value);
      form.append("voice", $("voice").value);
    } else {
      if (!$("speech").files[0]) { $("form-error").textContent = "Choose speech first."; return; }
      form.append("speech", $("speech").files[0]);
    }
  }
  if (m.checkpoint && $("checkpoint").value) form.append("checkpoint", $("checkpoint").value);
  form.append("options", JSON.stringify(options()));
  $("start").disabled = true;
  try {
    current = await api("/api/jobs", { method: "POST", body: form });
  } catch (error) {
    $("form-error").textContent = error.message;
    $("start").disabled = false;
    return;
  }
  $("job").hidden = false;
  $("idle").hidden = true;
  $("job").scrollIntoView({ block: "nearest" });  // on a narrow screen the result is below the form
  $("result").replaceChildren();
  $("job-error").textContent = "";
  $("cancel").hidden = false;
  show(current);
  timer = setInterval(poll, 400);
}

async function poll() {
  try { current = await api(`/api/jobs/${current.id}`); } catch (error) {
    $("job-error").textContent = error.message; stop(); return;
  }
  show(current);
  if (!["queued", "running"].includes(current.status)) { stop(); if (current.status === "done") await results(current); }
}

function stop() { clearInterval(timer); timer = null; $("start").disabled = false; $("cancel").hidden = true; }

const STATUS = { queued: "Waiting", running: "Running", done: "Done", failed: "Failed", cancelled: "Cancelled" };

function show(job) {
  const waiting = job.status === "queued" ? ` (place ${job.position + 1} in the queue)` : "";
  $("status").textContent = (STATUS[job.status] || job.status) + waiting;
  const active = ["queued", "running"].includes(job.status);
  $("stage").textContent = active && job.stage ? `: ${job.stage}` : "";
  // A finished job's bar stands still: full when done, gone when it failed or was cancelled.
  $("progress").hidden = !active && job.status !== "done";
  if (job.progress === null && active) $("progress").removeAttribute("value");
  else $("progress").value = job.status === "done" ? 1 : job.progress ?? 0;
  $("job").dataset.status = job.status;
  if (job.error) $("job-error").textContent = job.error;
}

async function results(job) {
  const box = $("result"), links = document.createElement("p");
  links.className = "downloads";
  for (const output of job.outputs) {
    if (output.kind === "video") {
      const video = document.createElement("video");
      video.id = "result-video";
      video.controls = true;
      video.src = output.url;
      box.append(video);
    } else if (output.kind === "image") {
      const image = document.createElement("img");
      image.src = output.url;
      image.alt = output.name;
      box.append(image);
    } else if (output.kind === "glb") {
      const canvas = document.createElement("canvas");
      canvas.id = "viewer";
      canvas.width = canvas.height = 512;
      box.append(canvas);
      try {
        const viewer = new GlbViewer(canvas);
        viewer.load(parseGlb(await (await fetch(output.url)).arrayBuffer()));
        window.viewer = viewer;
      } catch (error) { $("job-error").textContent = `3D view: ${error.message}`; }
    } else if (output.name === "score.json") {
      box.append(scoreTable(await api(output.url)));
      const hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = "LSE-D: how far the mouth is from the sound (lower is better). LSE-C: how sure the " +
        "sync model is that they belong together (higher is better). Offset: video frames the sound is late " +
        "(+) or early (-); 0 is in sync.";
      box.append(hint);
    }
    const link = document.createElement("a");
    link.href = output.url;
    link.download = output.name;
    link.textContent = `download ${output.name}`;
    links.append(link);
  }
  box.append(links);
}

function scoreTable(videos) {
  const table = document.createElement("table");
  table.id = "score";
  table.innerHTML = "<tr><th>track</th><th>frames</th><th>LSE-D</th><th>LSE-C</th><th>offset</th></tr>";
  for (const video of videos) for (const t of video.tracks) {
    const row = table.insertRow();
    for (const value of [t.track, t.frames, t.lse_d.toFixed(3), t.lse_c.toFixed(3), t.offset]) row.insertCell().textContent = value;
  }
  return table;
}

function speechSource(value) {
  document.querySelector(`[name=speech-source][value=${value}]`).checked = true;
  $("text-input").hidden = value !== "text";
  $("speech-drop").hidden = value === "text";
}

// An example file of the service's, put in a file input as if the person had chosen it.
async function useExample(url, input, box) {
  $("form-error").textContent = "";
  const response = await fetch(url);
  if (!response.ok) throw new Error(`the example could not be fetched (${response.status})`);
  const blob = await response.blob();
  const name = url.split("/").pop() + "." + (blob.type.split("/")[1] || "bin");
  const chosen = new DataTransfer();
  chosen.items.add(new File([blob], name, { type: blob.type }));
  input.files = chosen.files;
  preview(input, box);
}

// Only the examples the chosen job takes: a photo for a job with a face (not one that needs a video).
function showExamples() {
  const m = method();
  if (!examples || !m) return;
  $("example-photo").hidden = !(examples.photo && m.face && m.face !== "video");
  $("example-speech").hidden = !(examples.speech && m.speech);
  $("example-sentence").hidden = !m.speech;
  $("examples").hidden = [...$("examples").querySelectorAll("button")].every((b) => b.hidden);
}

async function loadExamples() {
  examples = await api("/api/examples");
  const failed = (error) => { $("form-error").textContent = error.message; };
  showExamples();
  $("example-photo").addEventListener("click", () => useExample(examples.photo, $("face"), $("face-preview")).catch(failed));
  $("example-speech").addEventListener("click", () => {
    speechSource("file");
    useExample(examples.speech, $("speech"), $("speech-preview")).catch(failed);
  });
  $("example-sentence").addEventListener("click", () => { speechSource("text"); $("text").value = examples.sentence; });
}

async function init() {
  [methods, checkpoints] = await Promise.all([api("/api/methods"), api("/api/checkpoints")]);
  for (const m of methods) $("method").append(new Option(m.title, m.name));
  $("method").addEventListener("change", showMethod);
  showMethod();
  dropZone($("face-drop"), $("face"), () => preview($("face"), $("face-preview")));
  dropZone($("speech-drop"), $("speech"), () => preview($("speech"), $("speech-preview")));
  for (const radio of document.querySelectorAll("[name=speech-source]")) {
    radio.addEventListener("change", () => speechSource(document.querySelector("[name=speech-source]:checked").value));
  }
  $("job-form").addEventListener("submit", start);
  $("cancel").addEventListener("click", async () => {
    try { show(await api(`/api/jobs/${current.id}/cancel`, { method: "POST" })); } catch (error) {
      $("job-error").textContent = error.message;
    }
  });
  const voices = await api("/api/voices");
  for (const v of voices) $("voice").append(new Option(v, v, v === "en-us", v === "en-us"));
  await loadExamples();
  document.body.dataset.ready = "true";
}

init().catch((error) => {
  // Without the token (the page opened at a bare address), the service's own words say what to open.
  const locked = error.message.includes("access token");
  $("form-error").textContent = locked ? error.message : `The service did not answer: ${error.message}`;
});
