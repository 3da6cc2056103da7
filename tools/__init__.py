"""Vision and reasoning tools, one module each. `all_tools()` lists every tool; an agent offers
those whose `unavailable(settings)` is None (e.g. no diffusion weights offline -> no generate_image)."""

from __future__ import annotations

from mmagent.tools.base import ToolContext, ToolOutput, VisionTool


def all_tools() -> list[VisionTool]:
    from mmagent.tools.ask_image import AskImageTool
    from mmagent.tools.attributes import AttributesTool
    from mmagent.tools.calculate import CalculateTool
    from mmagent.tools.caption import CaptionTool
    from mmagent.tools.classify import ClassifyTool
    from mmagent.tools.crop import CropTool
    from mmagent.tools.detect import DetectTool
    from mmagent.tools.draw import DrawTool
    from mmagent.tools.edit_image import EditImageTool
    from mmagent.tools.extract import ExtractTool
    from mmagent.tools.generate_image import GenerateImageTool
    from mmagent.tools.ground import GroundTool
    from mmagent.tools.layout import LayoutTool
    from mmagent.tools.ocr import OcrTool
    from mmagent.tools.query import QueryTool
    from mmagent.tools.relate import RelateTool
    from mmagent.tools.segment import SegmentTool
    from mmagent.tools.zoom import ZoomTool

    return [
        DetectTool(),
        OcrTool(),
        LayoutTool(),
        CropTool(),
        ZoomTool(),
        ExtractTool(),
        QueryTool(),
        RelateTool(),
        CalculateTool(),
        AttributesTool(),
        CaptionTool(),
        GroundTool(),
        ClassifyTool(),
        AskImageTool(),
        SegmentTool(),
        GenerateImageTool(),
        EditImageTool(),
        DrawTool(),
    ]


def default_tools() -> list[VisionTool]:
    """Every tool (the runner refuses calls to unavailable ones with the reason)."""
    return all_tools()


__all__ = ["ToolContext", "ToolOutput", "VisionTool", "all_tools", "default_tools"]
