// Images and files in the chat: the composer's attach button (and paste, and drop), each upload
// with its progress, and the attachments of a message as thumbnails and file cards.
//
// One path for every deployment: ask the app for an upload slot, POST the slot's form with the
// file straight to where it says (the private S3 bucket, or the app itself on the embedded
// default), then ask the app to confirm it. Sending the message carries the confirmed ids.
// Names are only ever set as text; every URL comes from the app (members-only redirects).

const BYTE_UNITS = ["bytes", "KB", "MB", "GB"];

export function formatSize(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} ${BYTE_UNITS[0]}` : `${value.toFixed(value < 10 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

// A message's attachments: images as thumbnails that open the full image, files as cards.
export function renderAttachments(attachments) {
  const box = document.createElement("div");
  box.className = "attachments";
  for (const attachment of attachments) {
    const link = document.createElement("a");
    link.href = attachment.url;
    if (attachment.kind === "image") {
      link.className = "attachment-image";
      link.target = "_blank";
      link.rel = "noopener";
      const img = document.createElement("img");
      img.src = attachment.thumbnail_url || attachment.url;
      img.alt = attachment.name;
      img.loading = "lazy";
      if (attachment.thumbnail_width && attachment.thumbnail_height) {
        img.width = attachment.thumbnail_width;
        img.height = attachment.thumbnail_height;
      }
      link.append(img);
    } else {
      link.className = "attachment-file";
      link.setAttribute("download", attachment.name);
      const name = document.createElement("span");
      name.className = "attachment-name";
      name.textContent = attachment.name;
      const size = document.createElement("span");
      size.className = "attachment-size muted";
      size.textContent = formatSize(attachment.size);
      link.append(name, size);
    }
    box.append(link);
  }
  return box;
}

function postJson(url, csrfToken, body) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (response) => {
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || `The upload failed (${response.status}).`);
    return data;
  });
}

// The slot's form to its URL, the file last, with progress; no cookie goes to another origin.
function uploadForm(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", upload.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () =>
      request.status >= 200 && request.status < 300
        ? resolve()
        : reject(new Error(`The storage refused the file (${request.status}).`)),
    );
    request.addEventListener("error", () => reject(new Error("The file could not be uploaded.")));
    request.send(form);
  });
}

// The composer's attachments. `onChange` runs whenever the set or its state changes.
export function setupAttachments({ composer, conversationId, onChange }) {
  const csrfToken = composer.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
  const items = [];

  const input = document.createElement("input");
  input.type = "file";
  input.multiple = true;
  input.hidden = true;
  input.id = `attach-${conversationId}`;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-secondary attach-button";
  button.setAttribute("aria-label", "Attach images or files");
  button.title = "Attach images or files";
  // A paperclip drawn as SVG: an emoji needs a font the reader may not have.
  const SVG = "http://www.w3.org/2000/svg";
  const icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "20");
  icon.setAttribute("height", "20");
  icon.setAttribute("aria-hidden", "true");
  const clip = document.createElementNS(SVG, "path");
  clip.setAttribute("d", "M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5");
  clip.setAttribute("fill", "none");
  clip.setAttribute("stroke", "currentColor");
  clip.setAttribute("stroke-width", "1.8");
  clip.setAttribute("stroke-linecap", "round");
  icon.append(clip);
  button.append(icon);
  const tray = document.createElement("ul");
  tray.className = "attachment-tray";
  tray.setAttribute("aria-label", "Attachments to send");
  tray.hidden = true;
  composer.querySelector("textarea").before(button, input);
  composer.before(tray);

  const changed = () => {
    tray.hidden = items.length === 0;
    onChange();
  };

  function add(file) {
    const item = { file, id: null, error: null, done: false };
    const row = document.createElement("li");
    row.className = "attachment-pending";
    const name = document.createElement("span");
    name.className = "attachment-name";
    name.textContent = file.name || "pasted image";
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute("aria-label", `Uploading ${file.name || "pasted image"}`);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link-button";
    remove.textContent = "Remove";
    remove.addEventListener("click", () => {
      items.splice(items.indexOf(item), 1);
      row.remove();
      changed();
    });
    row.append(name, progress, remove);
    tray.append(row);
    item.row = row;
    items.push(item);
    changed();
    postJson(`/api/v1/conversations/${conversationId}/attachments`, csrfToken, {
      name: file.name || "pasted-image.png",
      content_type: file.type || "application/octet-stream",
      size: file.size,
    })
      .then((slot) => uploadForm(slot.upload, file, (share) => (progress.value = share)).then(() => slot))
      .then((slot) => postJson(`/api/v1/attachments/${slot.attachment.id}/confirm`, csrfToken))
      .then((attachment) => {
        item.id = attachment.id;
        item.done = true;
        progress.value = 1;
        row.classList.add("ready");
        row.dataset.attachmentId = String(attachment.id);
      })
      .catch((error) => {
        item.error = error.message;
        item.done = true;
        row.classList.add("failed");
        progress.replaceWith(Object.assign(document.createElement("span"), { className: "form-errors", textContent: error.message }));
      })
      .finally(changed);
  }

  const addFiles = (files) => {
    for (const file of files) add(file);
  };
  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = "";
  });
  composer.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    addFiles(files);
  });
  composer.addEventListener("dragover", (event) => {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  });
  composer.addEventListener("drop", (event) => {
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    addFiles(event.dataTransfer.files);
  });

  return {
    // Confirmed ids, in the order attached.
    ids: () => items.filter((item) => item.id !== null).map((item) => item.id),
    busy: () => items.some((item) => !item.done),
    count: () => items.filter((item) => item.id !== null).length,
    clear() {
      items.length = 0;
      tray.replaceChildren();
      changed();
    },
  };
}
