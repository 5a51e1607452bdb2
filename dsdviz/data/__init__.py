"""Images and data: reading and writing images, the data folder, training streams, fixed examples,
degradations and the one :class:`Box` type.

* :mod:`.images`: image files to and from ``(1, 3, H, W)`` float tensors in ``[0, 1]``, the grey level;
* :mod:`.boxes`: :class:`Box` ``(top, left, height, width)`` in pixels, central boxes, crops;
* :mod:`.folders`: the data folder (:func:`data_root`, ``$DSDVIZ_DATA``), folders of 8-bit images;
* :mod:`.benchmarks`: the test sets of the data folder (``<set>/HR``, ``<set>/LR_bicubic/X4``);
* :mod:`.degradations`: MATLAB bicubic, blur kernels, noise and JPEG;
* :mod:`.streams`: the training data, infinite streams of random crops indexed by sample counter;
* :mod:`.examples`: fixed examples for validation, figures and tables (one :func:`sr_examples`).

Every public name is importable from ``dsdviz.data``.
"""

from .benchmarks import image_names, load_input, sr_folders
from .boxes import Box, center_box, center_crop, crop_box
from .degradations import (
    RealisticDegradation,
    bicubic_downsample,
    bicubic_upsample,
    blur,
    camera_shake_kernel,
    gaussian_blur,
    jpeg,
    load_kernels,
    noisy_blur,
    sensor_noise,
)
from .examples import Example, deblur_examples, degraded_versions, natural_examples, sr_examples
from .folders import (
    CACHE_IMAGES,
    DATA_ENV,
    EIGHT_BIT_MODES,
    Folder,
    check_fits,
    data_root,
    heldout_paths,
    image_paths,
    partner_path,
    read_image,
    read_uint8,
    split_folders,
    to_unit,
)
from .images import (
    IMAGE_SUFFIXES,
    LUMA_WEIGHTS,
    ImageSource,
    find_image,
    list_images,
    load_image,
    luma,
    open_image,
    quantize,
    save_image,
    to_numpy,
    to_uint8,
)
from .streams import DeblurPairs, NaturalCrops, SRPairs, StepSampler, dequantize, item_generator, random_index

__all__ = [
    "Box",
    "CACHE_IMAGES",
    "DATA_ENV",
    "DeblurPairs",
    "EIGHT_BIT_MODES",
    "Example",
    "Folder",
    "IMAGE_SUFFIXES",
    "ImageSource",
    "LUMA_WEIGHTS",
    "NaturalCrops",
    "RealisticDegradation",
    "SRPairs",
    "StepSampler",
    "bicubic_downsample",
    "bicubic_upsample",
    "blur",
    "camera_shake_kernel",
    "center_box",
    "center_crop",
    "check_fits",
    "crop_box",
    "data_root",
    "deblur_examples",
    "degraded_versions",
    "dequantize",
    "find_image",
    "gaussian_blur",
    "heldout_paths",
    "image_names",
    "image_paths",
    "item_generator",
    "jpeg",
    "list_images",
    "load_image",
    "load_input",
    "load_kernels",
    "luma",
    "natural_examples",
    "noisy_blur",
    "open_image",
    "partner_path",
    "quantize",
    "random_index",
    "read_image",
    "read_uint8",
    "save_image",
    "sensor_noise",
    "sr_examples",
    "sr_folders",
    "split_folders",
    "to_numpy",
    "to_uint8",
    "to_unit",
]
