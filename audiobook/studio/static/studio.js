// The audiobook studio's page: plain JavaScript, no build step. It talks to the studio's own
// server only (/api/..., /audio/...), keeps unsaved changes in `pending` until Save, and sends
// them with the casting file's revision it read, so a save from a stale tab is refused.
"use strict";

const state = {
  book: null,        // /api/book
  engines: [],       // /api/voices
  pending: new Map(),  // key -> change, in the order made
  polling: null,
};

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function api(method, path, data) {
  const options = { method, headers: {} };
  if (data !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(data);
  }
  const response = await fetch(path, options);
  let answer = null;
  try { answer = await response.json(); } catch (e) { answer = null; }
  if (!response.ok) {
    const error = new Error((answer && answer.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return answer;
}

function say(text, kind = "info", offerReload = false) {
  const box = $("#message");
  box.hidden = !text;
  box.className = kind;
  $("#message-text").textContent = text || "";
  $("#reload").hidden = !offerReload;
}

// ---------------------------------------------------------------- loading

async function load() {
  try {
    const [book, engines] = await Promise.all([api("GET", "/api/book"), state.engines.length ? state.engines : api("GET", "/api/voices")]);
    state.book = book;
    state.engines = engines;
  } catch (error) {
    say(`Cannot read the book: ${error.message}`, "error", true);
    return;
  }
  state.pending.clear();
  render();
}

function render() {
  const book = state.book;
  document.title = `${book.title} · audiobook studio`;
  $("#title").textContent = book.title;
  $("#author").textContent = `by ${book.author}`;
  $("#casting-file").textContent = `Casting: ${book.casting_file}`;
  $("#warnings").replaceChildren(...book.warnings.map((w) => el("li", { text: w })));
  $("#warnings").hidden = !book.warnings.length;
  renderCast();
  renderFilters();
  renderScript();
  showPending();
}

function showPending() {
  const count = state.pending.size;
  $("#pending").textContent = count ? `${count} unsaved change${count === 1 ? "" : "s"}` : "";
  $("#save").disabled = count === 0;
}

function change(key, value) {
  state.pending.delete(key);  // the latest change goes last
  state.pending.set(key, value);
  showPending();
}

// ---------------------------------------------------------------- the cast

function splitVoice(id) {
  if (id.includes(":")) return { base: id.split("#")[0], variant: "" };
  const plus = id.indexOf("+");
  return plus < 0 ? { base: id, variant: "" } : { base: id.slice(0, plus), variant: id.slice(plus) };
}

function engineOf(id) {
  return id.includes(":") ? id.split(":")[0] : "espeak";
}

function voiceInfo(id) {
  for (const engine of state.engines) {
    const found = engine.voices.find((v) => v.id === id);
    if (found) return found;
  }
  return null;
}

const ENGINE_LABELS = { espeak: "eSpeak NG", piper: "Piper (natural voices)" };

function voicePicker(row) {
  const { base, variant } = splitVoice(row.voice.id);
  const voice = el("select", { class: "voice", "aria-label": `${row.name}'s voice` });
  let known = false;
  for (const engine of state.engines) {
    const group = el("optgroup", { label: ENGINE_LABELS[engine.engine] || engine.engine });
    if (engine.unavailable) group.append(el("option", { disabled: true, text: engine.unavailable }));
    for (const v of engine.voices) {
      const speakers = v.speakers > 1 ? `, ${v.speakers} speakers` : "";
      group.append(el("option", { value: v.id, text: `${v.id}${v.gender ? ` (${v.gender})` : ""}${speakers}`, title: v.name }));
      known = known || v.id === base;
    }
    voice.append(group);
  }
  if (!known) voice.prepend(el("option", { value: base, text: base }));
  voice.value = base;

  const variants = el("select", { class: "variant", "aria-label": `${row.name}'s variant` }, el("option", { value: "", text: "no variant" }));
  const espeak = state.engines.find((e) => e.engine === "espeak");
  for (const v of (espeak ? espeak.variants : [])) {
    variants.append(el("option", { value: v.id, text: `${v.id}${v.gender ? ` (${v.gender})` : ""}`, title: v.name }));
  }
  if (variant && ![...variants.options].some((o) => o.value === variant)) variants.append(el("option", { value: variant, text: variant }));
  variants.value = variant;

  const speakerOf = row.voice.id.includes("#") ? row.voice.id.split("#")[1] : "0";
  const speaker = el("input", { class: "speaker", type: "number", min: 0, step: 1, value: speakerOf, "aria-label": "speaker", title: "Speaker of a multi-speaker model" });
  const sync = () => {
    const info = voiceInfo(voice.value);
    variants.hidden = engineOf(voice.value) !== "espeak";
    speaker.hidden = !(info && info.speakers > 1);
    if (info && info.speakers > 1) speaker.max = info.speakers - 1;
  };
  sync();
  return { voice, variants, speaker, sync };
}

function pickedVoice(tr) {
  const voice = $(".voice", tr).value;
  const info = voiceInfo(voice);
  let id = voice;
  if (engineOf(voice) === "espeak") id += $(".variant", tr).value;
  else if (info && info.speakers > 1) id += `#${Number($(".speaker", tr).value)}`;
  return { id, rate: Number($(".rate", tr).value), pitch: Number($(".pitch", tr).value) };
}

function castRow(row, isNarrator) {
  const names = [row.name, ...state.book.cast.map((r) => r.name)];
  const picker = voicePicker(row);
  const rate = el("input", { class: "rate", type: "number", min: 80, max: 450, step: 5, value: row.voice.rate, "aria-label": "rate, words per minute" });
  const pitch = el("input", { class: "pitch", type: "number", min: 0, max: 99, step: 1, value: row.voice.pitch, "aria-label": "pitch" });
  const tr = el("tr", { "data-name": row.name, class: isNarrator ? "narrator" : "" });
  const onVoice = () => {
    picker.sync();
    const voice = pickedVoice(tr);
    const same = voice.id === row.voice.id && voice.rate === row.voice.rate && voice.pitch === row.voice.pitch;
    if (same) state.pending.delete(`voice:${row.name}`);  // back to the voice it has: nothing to save
    else change(`voice:${row.name}`, { op: "voice", name: row.name, voice });
    tr.classList.toggle("changed", !same || [...state.pending.keys()].some((k) => k.endsWith(`:${row.name}`)));
    showPending();
  };
  for (const input of [picker.voice, picker.variants, picker.speaker, rate, pitch]) input.addEventListener("change", onVoice);

  let gender = "";
  if (!isNarrator) {
    gender = el("select", { class: "gender", "aria-label": `${row.name}'s gender` },
      ["female", "male", ""].map((g) => el("option", { value: g, text: g || "unknown" })));
    gender.value = row.gender || "";
    gender.addEventListener("change", () => {
      change(`gender:${row.name}`, { op: "gender", name: row.name, gender: gender.value || null });
      tr.classList.add("changed");
    });
  }

  const play = el("button", { class: "preview", title: `Hear ${row.name} in this voice`, text: "▶", onclick: () => preview(row.name, tr) });

  let fixes = "";
  if (!isNarrator) {
    const merge = el("select", { class: "merge", "aria-label": `merge ${row.name} into` },
      el("option", { value: "", text: "same person as…" }),
      names.filter((n, i) => i > 0 && n !== row.name).map((n) => el("option", { value: n, text: n })));
    merge.addEventListener("change", () => {
      if (!merge.value) { state.pending.delete(`merge:${row.name}`); tr.classList.remove("merged"); showPending(); return; }
      change(`merge:${row.name}`, { op: "merge", name: row.name, into: merge.value });
      tr.classList.add("changed", "merged");
    });
    let notCharacter = null;
    if (row.named) {  // a description ("a voice") is nobody's name: its lines go to someone with a merge
      notCharacter = el("button", { class: "not-character", text: "not a character", title: `${row.name} is never a speaker` });
      notCharacter.addEventListener("click", () => {
        change(`not:${row.name}`, { op: "not_character", name: row.name });
        tr.classList.add("changed", "removed");
      });
    }
    fixes = el("div", { class: "fixes" }, merge, notCharacter);
  }

  const aliases = row.aliases.length ? el("div", { class: "aliases", text: `aka ${row.aliases.join(", ")}` }) : null;
  const narrates = row.first_person ? el("div", { class: "aliases", text: "narrates as “I”" }) : null;
  const from = row.source === "voices.toml" ? "casting file" : row.source === "auto" ? "automatic" : "default";
  tr.append(
    el("th", { scope: "row", class: "name" }, row.name, aliases, narrates),
    el("td", { class: "num", text: String(row.lines) }),
    el("td", { class: "num", text: String(row.words) }),
    el("td", {}, gender || el("span", { class: "dim", text: "—" })),
    el("td", { class: "voice-cell" }, picker.voice, picker.variants, picker.speaker),
    el("td", {}, rate),
    el("td", {}, pitch),
    el("td", { class: `source ${row.source}`, text: from }),
    el("td", {}, play),
    el("td", { class: "first-line", text: row.first_line, title: row.first_line }),
    el("td", {}, fixes),
  );
  return tr;
}

function renderCast() {
  const body = $("#cast tbody");
  body.replaceChildren(castRow(state.book.narrator, true), ...state.book.cast.map((row) => castRow(row, false)));
}

// ---------------------------------------------------------------- listening

function play(url, label) {
  const player = $("#player");
  player.src = url;
  $("#now-playing").textContent = label;
  player.play().catch((error) => say(`Cannot play: ${error.message}`, "error"));
}

async function preview(name, tr) {
  const button = $(".preview", tr);
  button.disabled = true;
  $("#now-playing").textContent = `Speaking ${name}'s lines…`;
  try {
    const answer = await api("POST", "/api/preview", { name, voice: pickedVoice(tr) });
    play(answer.url, `${name}: a few of their lines`);
  } catch (error) {
    say(`No preview of ${name}: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

async function hearLine(chapter, line) {
  $("#now-playing").textContent = "Speaking the line…";
  try {
    const answer = await api("POST", "/api/line", { chapter, line });
    play(answer.url, `Chapter ${chapter}, line ${line + 1}`);
  } catch (error) {
    say(`Cannot speak that line: ${error.message}`, "error");
  }
}

// ---------------------------------------------------------------- the script

function renderFilters() {
  const chapter = $("#chapter");
  const kept = chapter.value;
  chapter.replaceChildren(
    ...state.book.chapters.map((c) => el("option", { value: String(c.number), text: `${c.number}. ${c.title}` })),
    el("option", { value: "all", text: "all chapters" }),
  );
  chapter.value = kept && [...chapter.options].some((o) => o.value === kept) ? kept : "1";
  const filter = $("#speaker-filter");
  const keptSpeaker = filter.value;
  filter.replaceChildren(el("option", { value: "", text: "everyone" }), ...state.book.speakers.map((n) => el("option", { value: n, text: n })));
  filter.value = state.book.speakers.includes(keptSpeaker) ? keptSpeaker : "";
}

function lineRow(chapter, line) {
  const key = `line:${chapter.number}:${line.index}`;
  const pending = state.pending.get(key);
  const classes = ["line", line.kind, line.low ? "low" : "", pending ? "changed" : ""].filter(Boolean).join(" ");
  let who;
  if (line.kind === "dialogue") {
    who = el("select", { class: "speaker", "aria-label": "who says this line" },
      state.book.speakers.map((n) => el("option", { value: n, text: n })));
    if (!state.book.speakers.includes(line.speaker)) who.prepend(el("option", { value: line.speaker, text: line.speaker }));
    who.value = pending ? pending.speaker : line.speaker;
    who.addEventListener("change", () => {
      if (who.value === line.speaker) state.pending.delete(key);
      else change(key, { op: "line", chapter: chapter.number, line: line.index, speaker: who.value });
      who.closest(".line").classList.toggle("changed", who.value !== line.speaker);
      showPending();
    });
  } else {
    who = el("span", { class: "narrated", text: line.speaker });
  }
  const why = line.kind === "dialogue"
    ? el("span", { class: "rule", title: "the rule that chose the speaker, and how sure it is", text: `${line.rule || "?"} · ${line.confidence.toFixed(2)}` })
    : el("span", { class: "rule" });
  return el("div", { class: classes, "data-chapter": chapter.number, "data-line": line.index },
    el("button", { class: "hear", title: "Hear this line", text: "▶", onclick: () => hearLine(chapter.number, line.index) }),
    el("span", { class: "who" }, who),
    why,
    el("span", { class: "text", text: line.text, title: "Click to hear this line", onclick: () => {
      if (!window.getSelection().toString()) hearLine(chapter.number, line.index);  // selecting words to copy plays nothing
    } }),
  );
}

const MAX_SHOWN = 1500;

function renderScript() {
  const which = $("#chapter").value;
  const speaker = $("#speaker-filter").value;
  const words = $("#search").value.trim().toLowerCase();
  const lowOnly = $("#low-only").checked;
  const filtering = speaker || words || lowOnly;
  const chapters = which === "all" ? state.book.chapters : state.book.chapters.filter((c) => String(c.number) === which);
  const out = [];
  let shown = 0;
  let matched = 0;
  for (const chapter of chapters) {
    const lines = chapter.lines.filter((line) =>
      (!speaker || line.speaker === speaker) && (!lowOnly || line.low) && (!words || line.text.toLowerCase().includes(words)));
    matched += lines.length;
    if (!lines.length) continue;
    if (chapters.length > 1) out.push(el("h3", { text: `${chapter.number}. ${chapter.title}` }));
    for (const line of lines) {
      if (shown >= MAX_SHOWN) break;
      out.push(lineRow(chapter, line));
      shown += 1;
    }
  }
  $("#script").replaceChildren(...out);
  const low = chapters.reduce((n, c) => n + c.lines.filter((l) => l.low).length, 0);
  $("#script-count").textContent = `${filtering ? `${matched} matching lines` : `${matched} lines`}, ${low} unsure` +
    (matched > shown ? ` (first ${shown} shown: narrow the search)` : "");
}

// ---------------------------------------------------------------- saving and building

async function save() {
  if (!state.pending.size) return true;
  $("#save").disabled = true;
  say("Saving…");
  try {
    await api("POST", "/api/save", { revision: state.book.revision, changes: [...state.pending.values()] });
  } catch (error) {
    const stale = error.status === 409;
    say(`Not saved: ${error.message}`, "error", stale);
    $("#save").disabled = false;
    return false;
  }
  const count = state.pending.size;
  await load();
  say(`Saved ${count} change${count === 1 ? "" : "s"} to ${state.book.casting_file}.`, "ok");
  return true;
}

async function build() {
  if (!(await save())) return;
  let status;
  try {
    status = await api("POST", "/api/build", {});
  } catch (error) {
    say(`Cannot build: ${error.message}`, "error");
    return;
  }
  $("#build").disabled = true;
  $("#build-panel").hidden = false;
  showBuild(status);
  poll();
}

const STAGES = { synthesize: "Synthesizing clips", encode: "Encoding clips", write: "Writing chapters" };

async function poll() {
  let status;
  try {
    status = await api("GET", "/api/build");
  } catch (error) {
    say(`Lost the build: ${error.message}`, "error");
    $("#build").disabled = false;
    return;
  }
  showBuild(status);
  if (status.state === "running") {
    state.polling = setTimeout(poll, 400);
  } else {
    $("#build").disabled = false;
  }
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function showBuild(status) {
  const bar = $("#build-progress");
  const text = $("#build-status");
  $("#build-panel").dataset.state = status.state;
  $("#build-panel").dataset.build = String(status.number);
  if (status.state === "running") {
    bar.max = Math.max(1, status.total);
    bar.value = status.done;
    text.textContent = status.stage ? `${STAGES[status.stage] || status.stage}: ${status.done} of ${status.total}` : "Reading the book…";
  } else if (status.state === "failed") {
    text.textContent = `Build failed: ${status.error}`;
    $("#recast").replaceChildren();
    $("#built-chapters").replaceChildren();
  } else if (status.state === "done") {
    bar.max = 1;
    bar.value = 1;
    const made = status.clips_synthesized;
    text.textContent = `Built ${status.chapters.length} chapters. ${made} of ${status.clips_total} clip${status.clips_total === 1 ? "" : "s"} ` +
      `re-synthesized, ${status.clips_total - made} from the cache.`;
    text.dataset.synthesized = String(made);
    $("#recast").replaceChildren(...status.recast.map((r) => el("li", { text: `Changed speaker: ${r}` })));
    $("#built-chapters").replaceChildren(...status.chapters.map((c) => el("li", { "data-chapter": c.number },
      el("span", { text: `${c.title} (${duration(c.duration_ms)}) ` }),
      el("audio", { controls: true, preload: "none", src: `/audio/chapter/${c.number}` }))));
  }
}

// ---------------------------------------------------------------- wiring

document.addEventListener("DOMContentLoaded", () => {
  $("#save").addEventListener("click", save);
  $("#build").addEventListener("click", build);
  $("#reload").addEventListener("click", () => { say(""); load(); });
  for (const id of ["#chapter", "#speaker-filter", "#low-only"]) $(id).addEventListener("change", renderScript);
  $("#search").addEventListener("input", () => {
    if ($("#search").value.trim() && $("#chapter").value !== "all") $("#chapter").value = "all";
    renderScript();
  });
  window.addEventListener("beforeunload", (event) => {
    if (state.pending.size) event.preventDefault();
  });
  load().then(() => api("GET", "/api/build").then((status) => {
    if (status.state !== "idle") { $("#build-panel").hidden = false; showBuild(status); if (status.state === "running") poll(); }
  }).catch(() => {}));
});
