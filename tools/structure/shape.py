"""Shape names from a binary mask: OpenCV contour, polygon approximation, circularity and
solidity (area / convex hull area: a star is far from convex)."""

from __future__ import annotations

import math

import numpy as np

SHAPE_NAMES = (
    "circle",
    "ellipse",
    "triangle",
    "square",
    "rectangle",
    "diamond",
    "pentagon",
    "hexagon",
    "star",
    "cross",
    "arrow",
)


def shape_name(mask: np.ndarray) -> str:
    import cv2

    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return "unknown"
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    perimeter = cv2.arcLength(c, True)
    if area < 20 or perimeter == 0:
        return "unknown"
    hull_area = cv2.contourArea(cv2.convexHull(c))
    solidity = area / hull_area if hull_area else 0.0
    circularity = 4 * math.pi * area / perimeter**2
    approx = cv2.approxPolyDP(c, 0.03 * perimeter, True)
    vertices = len(approx)
    (_, _), (rw, rh), angle = cv2.minAreaRect(c)
    aspect = min(rw, rh) / max(rw, rh) if max(rw, rh) else 0.0
    if solidity < 0.75:
        if vertices >= 8 and solidity < 0.65:
            return "star"
        if vertices >= 10 or vertices == 12:
            return "cross"
        return "arrow" if vertices in (7, 8, 9) else "star"
    if circularity > 0.86 and vertices >= 6:
        return "circle" if aspect > 0.85 else "ellipse"
    if vertices == 3:
        return "triangle"
    if vertices == 4:
        x, y, bw, bh = cv2.boundingRect(c)
        fill = area / (bw * bh) if bw * bh else 0.0
        if fill < 0.7:  # a square stood on its corner fills half its bounding box
            return "diamond"
        return "square" if aspect > 0.85 else "rectangle"
    if vertices == 5:
        return "pentagon"
    if vertices == 6:
        return "hexagon"
    if circularity > 0.8:
        return "circle" if aspect > 0.85 else "ellipse"
    return "polygon"
