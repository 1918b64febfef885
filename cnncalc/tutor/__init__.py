"""The single-layer helpers a student asks for, each a library module plus a click command.

* ``formula``: one layer's output size worked out per spatial dimension (``cnncalc conv``);
* ``solve``: the kernel, stride, padding and dilation giving a wanted size (``cnncalc solve``);
* ``explain``: every output of a small convolution or pooling as a sum of products
  (``cnncalc explain``);
* ``commands``: the three click commands, registered by the main CLI.
"""
