#!/usr/bin/env python3
"""Write a deterministic newc cpio archive of a directory to stdout.

busybox cpio copies each file's inode number into the archive, so the
same tree gives different bytes on every build; this writer numbers
entries in sorted order and fixes owners and times. Usage:
newc.py DIR MTIME [extra device nodes as path:c:major:minor ...]
"""
import os
import stat
import sys


def header(out, name, ino, mode, nlink, mtime, data, rdev=(0, 0)):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, mtime, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
    out.write(name_b)
    out.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
    out.write(data)
    out.write(b"\0" * ((4 - len(data) % 4) % 4))


def main():
    root, mtime = sys.argv[1], int(sys.argv[2])
    out = sys.stdout.buffer
    paths = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            paths.append(os.path.relpath(os.path.join(d, n), root))
    ino = 1
    for rel in sorted(set(paths)):
        p = os.path.join(root, rel)
        st = os.lstat(p)
        perm = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            header(out, rel, ino, stat.S_IFLNK | 0o777, 1, mtime, os.readlink(p).encode())
        elif stat.S_ISDIR(st.st_mode):
            header(out, rel, ino, stat.S_IFDIR | perm, 2, mtime, b"")
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                header(out, rel, ino, stat.S_IFREG | perm, 1, mtime, f.read())
        ino += 1
    for spec in sys.argv[3:]:
        path, kind, major, minor = spec.split(":")
        mode = (stat.S_IFCHR if kind == "c" else stat.S_IFBLK) | 0o600
        header(out, path, ino, mode, 1, mtime, b"", (int(major), int(minor)))
        ino += 1
    header(out, "TRAILER!!!", 0, 0, 1, 0, b"")
    out.flush()


if __name__ == "__main__":
    main()
