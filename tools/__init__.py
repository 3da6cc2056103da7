"""Vision and reasoning tools, one module each. `default_tools()` lists what the agent offers."""
from __future__ import annotations

from tools.base import ToolContext, ToolOutput, VisionTool


def default_tools() -> list[VisionTool]:
    from tools.calculate import CalculateTool
    from tools.crop import CropTool
    from tools.detect import DetectTool
    from tools.extract import ExtractTool
    from tools.ocr import OcrTool
    from tools.query import QueryTool
    from tools.relate import RelateTool

    return [DetectTool(), OcrTool(), CropTool(), ExtractTool(), QueryTool(), RelateTool(), CalculateTool()]


__all__ = ["ToolContext", "ToolOutput", "VisionTool", "default_tools"]
