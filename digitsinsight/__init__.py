"""DigitsInSight: read handwritten numbers.

    import digitsinsight
    reading = digitsinsight.read_number("photo.jpg")   # path, bytes, PIL image, numpy array, sketchpad dict
    reading.text, reading.status, reading.digits, reading.to_dict()
    model = digitsinsight.load_model()                 # bundled weights/, or hf-hub:/local-dir:
"""
from . import model as _model  # noqa: F401 - registers DigitNet with timm
from . import sequence as _sequence  # noqa: F401 - registers DigitLine with timm
from .image import ImageError
from .model import DigitNet
from .reader import Digit, Reading, read_as_dict, read_number
from .speech import SpeechError, speak  # noqa: F401 - cheap (~6 ms): coqui loads only in a background thread
from .weights import load_model

__all__ = ["DigitNet", "load_model", "read_number", "read_as_dict", "Reading", "Digit", "ImageError"]
__version__ = "0.1.0"
