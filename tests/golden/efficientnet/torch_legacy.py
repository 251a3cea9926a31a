"""Pure-Python reader for LEGACY (non-zip, torch < 1.6) torch.save files. No torch needed.

Layout: pickle(magic 0x1950a86a20f9469cfc6c), pickle(protocol 1001), pickle(sys_info),
pickle(object; storages are persistent ids ('storage', type, key, location, numel, view_meta)),
pickle(list of storage keys), then per key in that order: int64 numel + raw element bytes.
Each tensor = as_strided(storage[offset:], size, stride) (many are non-contiguous here).
"""
import collections
import io
import pickle
import struct

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
PROTOCOL = 1001

_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_DTYPES[name])


class _Storage:
    def __init__(self, key, dtype, numel):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.data = None  # filled after the object pickle


class _Tensor:
    """Placeholder until storages are read."""
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_tensor":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing global {module}.{name}")

    def persistent_load(self, pid):
        typename, stype, key, location, numel, view_meta = pid
        assert typename == "storage", pid
        if key not in self.storages:
            self.storages[key] = _Storage(key, stype.dtype, numel)
        st = self.storages[key]
        if view_meta is not None:  # very old format: storage view (view_key, offset, size)
            view_key, off, vsize = view_meta
            return ("view", st, off, vsize)
        return st


def load(path, return_info=False):
    with open(path, "rb") as f:
        buf = f.read()
    f = io.BytesIO(buf)
    magic = pickle.load(f)
    assert magic == MAGIC, "not a legacy torch file (zip-format files start with PK)"
    assert pickle.load(f) == PROTOCOL
    sys_info = pickle.load(f)
    assert sys_info.get("little_endian", True), "big-endian file"
    storages = {}
    obj = _Unpickler(f, storages).load()
    keys = pickle.load(f)
    pos = f.tell()
    for k in keys:
        st = storages[k]
        (n,) = struct.unpack_from("<q", buf, pos)
        pos += 8
        assert n == st.numel, (k, n, st.numel)
        nbytes = n * st.dtype.itemsize
        st.data = np.frombuffer(buf, dtype=st.dtype, count=n, offset=pos).copy()
        pos += nbytes
    assert pos == len(buf), (pos, len(buf))

    info = collections.OrderedDict()

    def realise(t):
        st = t.storage
        off = t.offset
        if isinstance(st, tuple):  # ("view", storage, view_offset, view_size)
            _, st, voff, _ = st
            off += voff
        base = st.data
        isz = base.dtype.itemsize
        # bounds check
        last = off + sum((s - 1) * d for s, d in zip(t.size, t.stride)) if all(t.size) else off
        assert last < base.size or base.size == 0
        arr = np.lib.stride_tricks.as_strided(base[off:], shape=t.size, strides=[d * isz for d in t.stride])
        contig = tuple(t.stride) == tuple(np.cumprod((list(t.size[1:]) + [1])[::-1])[::-1].tolist()) if t.size else True
        return np.array(arr), contig  # copy -> C-contiguous

    out = collections.OrderedDict()
    for k, v in obj.items():
        if isinstance(v, _Tensor):
            arr, contig = realise(v)
            out[k] = arr
            info[k] = dict(shape=v.size, stride=v.stride, offset=v.offset, storage=v.storage.key if not isinstance(v.storage, tuple) else v.storage[1].key, contiguous=contig)
        else:
            out[k] = v
    if return_info:
        return out, info, sys_info
    return out


if __name__ == "__main__":
    import sys
    sd, info, si = load(sys.argv[1], return_info=True)
    print("sys_info:", si)
    nc = 0
    for k, m in info.items():
        flag = "" if m["contiguous"] else "  NON-CONTIGUOUS"
        nc += not m["contiguous"]
        print(f"{k:45s} {str(m['shape']):22s} stride={m['stride']} off={m['offset']}{flag}")
    print(len(info), "tensors,", nc, "non-contiguous,", sum(int(np.prod(m["shape"])) for m in info.values()), "elements")
