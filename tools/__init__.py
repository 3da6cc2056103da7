"""Vision and reasoning tools, one module each. `all_tools()` lists every tool; an agent offers
those whose `unavailable(settings)` is None (e.g. no diffusion weights offline -> no generate_image)."""
from __future__ import annotations

from tools.base import ToolContext, ToolOutput, VisionTool


def all_tools() -> list[VisionTool]:
    from tools.ask_image import AskImageTool
    from tools.attributes import AttributesTool
    from tools.calculate import CalculateTool
    from tools.caption import CaptionTool
    from tools.classify import ClassifyTool
    from tools.crop import CropTool
    from tools.detect import DetectTool
    from tools.draw import DrawTool
    from tools.edit_image import EditImageTool
    from tools.extract import ExtractTool
    from tools.generate_image import GenerateImageTool
    from tools.layout import LayoutTool
    from tools.ground import GroundTool
    from tools.ocr import OcrTool
    from tools.query import QueryTool
    from tools.relate import RelateTool
    from tools.segment import SegmentTool

    return [DetectTool(), OcrTool(), LayoutTool(), CropTool(), ExtractTool(), QueryTool(), RelateTool(), CalculateTool(), AttributesTool(),
            CaptionTool(), GroundTool(), ClassifyTool(), AskImageTool(), SegmentTool(), GenerateImageTool(),
            EditImageTool(), DrawTool()]


def default_tools() -> list[VisionTool]:
    """Every tool (the runner refuses calls to unavailable ones with the reason)."""
    return all_tools()


__all__ = ["ToolContext", "ToolOutput", "VisionTool", "all_tools", "default_tools"]
