"""The worked text of one layer, built on the layer classes: it computes nothing they do not.

* ``window``: the layer a question is about (``WindowSpec``), built as the real layer type;
* ``formula``: that layer's output size worked out per spatial dimension (``cnncalc conv``);
* ``solve``: the kernel, stride, padding and dilation giving a wanted size, each candidate
  checked by the layer type (``cnncalc solve``);
* ``explain``: every output of a small convolution or pooling as a sum of products
  (``cnncalc explain``);
* ``render``: their table, JSON and CSV. The commands themselves live in ``cnncalc.cli``.
"""
