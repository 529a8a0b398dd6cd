// What the phone captures itself: photos (made smaller before they are queued), the client's signature
// drawn on the screen, and barcodes read by the camera where the browser can.

import { gettext, h } from "./ui.js";

export const PHOTO_MAX_PX = 1600;
const PHOTO_QUALITY = 0.82;

function blobToBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

async function decode(file) {
  if (window.createImageBitmap) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      // an older browser without the options, or a format it cannot decode this way: try an <img>
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * A photo as a JPEG of at most PHOTO_MAX_PX on its longer side (a phone camera's 12 MP picture becomes
 * a few hundred KB, which a weak connection can send). Transparent parts become white.
 */
export async function resizePhoto(file, maxPx = PHOTO_MAX_PX) {
  const image = await decode(file);
  const width = image.width || image.naturalWidth;
  const height = image.height || image.naturalHeight;
  const scale = Math.min(1, maxPx / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  if (image.close) image.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", PHOTO_QUALITY));
  return { base64: await blobToBase64(blob), contentType: "image/jpeg", width: canvas.width, height: canvas.height };
}

/** A signature pad on a <canvas>: finger, pen or mouse (pointer events), with clear and PNG export. */
export class SignaturePad {
  constructor(canvas, onChange = () => {}) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.strokes = 0;
    this.last = null;
    this.ctx = canvas.getContext("2d");
    this.fit();
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", () => this.up());
    canvas.addEventListener("pointercancel", () => this.up());
  }

  /** Match the bitmap to the size on screen so the line stays under the finger and sharp. */
  fit() {
    const rect = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    if (!rect.width) return;
    this.canvas.width = Math.round(rect.width * ratio);
    this.canvas.height = Math.round(rect.height * ratio);
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.ctx.lineWidth = 2.4;
    this.ctx.lineCap = "round";
    this.ctx.lineJoin = "round";
    this.ctx.strokeStyle = "#101828";
  }

  point(event) {
    const rect = this.canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  down(event) {
    event.preventDefault();
    this.canvas.setPointerCapture?.(event.pointerId);
    this.last = this.point(event);
    this.ctx.beginPath();
    this.ctx.arc(this.last.x, this.last.y, 1, 0, Math.PI * 2);
    this.ctx.fillStyle = "#101828";
    this.ctx.fill();
  }

  move(event) {
    if (!this.last) return;
    event.preventDefault();
    const p = this.point(event);
    this.ctx.beginPath();
    this.ctx.moveTo(this.last.x, this.last.y);
    this.ctx.lineTo(p.x, p.y);
    this.ctx.stroke();
    this.last = p;
  }

  up() {
    if (!this.last) return;
    this.last = null;
    this.strokes += 1;
    this.canvas.classList.add("signed");
    this.onChange(this);
  }

  isEmpty() {
    return this.strokes === 0;
  }

  clear() {
    this.ctx.save();
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.ctx.restore();
    this.strokes = 0;
    this.canvas.classList.remove("signed");
    this.onChange(this);
  }

  /** The drawing on a white background, as PNG base64 (the server stores it as the signature image). */
  toBase64() {
    const out = document.createElement("canvas");
    out.width = this.canvas.width;
    out.height = this.canvas.height;
    const ctx = out.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(this.canvas, 0, 0);
    return out.toDataURL("image/png").split(",", 2)[1];
  }

  /** Keep the drawing across a re-render of the screen. */
  snapshot() {
    return this.isEmpty() ? null : { image: this.canvas.toDataURL("image/png"), strokes: this.strokes };
  }

  restore(saved) {
    if (!saved) return;
    const img = new Image();
    img.onload = () => {
      const rect = this.canvas.getBoundingClientRect();
      this.ctx.drawImage(img, 0, 0, rect.width, rect.height);
    };
    img.src = saved.image;
    this.strokes = saved.strokes;
    this.canvas.classList.add("signed");
  }
}

/** Whether this browser can read barcodes with the camera (BarcodeDetector and getUserMedia). */
export function canScan() {
  return "BarcodeDetector" in window && Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

/** Open the camera full screen until a barcode or QR code is read; resolves with its text (null: cancelled). */
export async function scanBarcode() {
  const wanted = ["ean_13", "ean_8", "code_128", "code_39", "upc_a", "upc_e", "qr_code", "data_matrix", "itf"];
  const supported = await window.BarcodeDetector.getSupportedFormats();
  const detector = new window.BarcodeDetector({ formats: wanted.filter((f) => supported.includes(f)) });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  const video = h("video", { class: "fapp-scan-video", playsinline: true, muted: true, autoplay: true });
  video.srcObject = stream;
  let cancelled = false;
  const cancel = h("button", { type: "button", class: "btn btn-big" }, gettext("Cancel"));
  const overlay = h(
    "div",
    { class: "fapp-scan", role: "dialog", "aria-label": gettext("Scan a barcode") },
    video,
    h("p", { class: "fapp-scan-hint" }, gettext("Point the camera at the part's barcode or QR code.")),
    cancel,
  );
  document.body.append(overlay);
  cancel.addEventListener("click", () => {
    cancelled = true;
  });
  try {
    await video.play().catch(() => {});
    while (!cancelled) {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) return codes[0].rawValue;
      await new Promise((r) => setTimeout(r, 200));
    }
    return null;
  } finally {
    for (const track of stream.getTracks()) track.stop();
    overlay.remove();
  }
}
