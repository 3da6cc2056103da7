"""Structure from pixels and OCR, deterministically: the primitives the `layout` and
`attributes` tools are made of (no tool contract, no models, no LLM).

geometry: boxes, position names, arrangement of items; text: numbers, OCR-tolerant matching;
phrases: OCR segments grouped into phrases; receipt: key-value rows and fields; table:
aligned columns with a header; chart: bars from pixels; regions: foreground blobs on a plain
background (panels, shapes); colour: colour names in CIELAB; shape: contour shape names.
"""
