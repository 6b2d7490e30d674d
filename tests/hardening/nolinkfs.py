"""nolinkfs.py — a real FUSE filesystem without hard links and without RENAME_NOREPLACE, for the dump tests.

    /usr/bin/python3 nolinkfs.py BACKING MOUNTPOINT

A passthrough of BACKING, served through libfuse 2 (Debian's python3-fusepy): libfuse 2 has no rename2, so the
kernel answers renameat2(RENAME_NOREPLACE) with EINVAL, as it does on many FUSE and network filesystems; and
link(2) is not implemented, which fusepy answers with EROFS (the "read-only file system" of issue 9). Runs in
the foreground until unmounted.
"""
import errno
import os
import sys

import fusepy
from fusepy import FUSE, FuseOSError, Operations


class NoLink(Operations):
    def __init__(self, root):
        self.root = root

    def _p(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def getattr(self, path, fh=None):
        try:
            st = os.lstat(self._p(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        return {k: getattr(st, k) for k in ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_atime",
                                             "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def access(self, path, mode):
        if not os.access(self._p(path), mode):
            raise FuseOSError(errno.EACCES)

    def create(self, path, mode, fi=None):
        return os.open(self._p(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)

    def open(self, path, flags):
        return os.open(self._p(path), flags)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        os.truncate(self._p(path), length)

    def release(self, path, fh):
        os.close(fh)

    def flush(self, path, fh):
        return 0

    def unlink(self, path):
        os.unlink(self._p(path))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._p(path), times)

    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def statfs(self, path):
        st = os.statvfs(self._p(path))
        return {k: getattr(st, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                                             "f_files", "f_flag", "f_frsize", "f_namemax")}
    # link, symlink: not implemented (fusepy's default answers EROFS).


if __name__ == "__main__":
    assert fusepy.Operations.link is Operations.link
    FUSE(NoLink(sys.argv[1]), sys.argv[2], foreground=True, allow_other=True, nothreads=True)
