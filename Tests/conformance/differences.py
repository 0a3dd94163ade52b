"""THE table of differences between Lakebed and the real Rucio 41.5.1 server (the only one).

kind "deliberate": Lakebed differs on purpose; `note` says why; the test checks both answers stay as recorded.
kind "bug": a Lakebed bug not fixed yet; the case is xfail(strict=True) with Rucio's exact answer in the reason, so
the suite fails the day Lakebed answers like Rucio and the entry has not been removed. This list is the work queue.
Signatures: status, exact Content-Type, ExceptionClass ("body:X" when only the JSON body names it), JSON key sets
(for x-json-stream the union over lines), redirect target with world values as {placeholders}.
"""
from dataclasses import dataclass


class LakebedDiffers(AssertionError):
    pass


@dataclass
class D:
    kind: str
    rucio: dict
    lakebed: dict
    note: str


DIFFERENCES = {
}
