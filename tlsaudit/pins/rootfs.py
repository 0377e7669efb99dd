"""Files under a root folder (`--root DIR`: an image or a mounted disk), never leaving it.

Every path is resolved component by component; a symlink is followed as the image would see it (an
absolute target starts again at the root, `..` stops at the root), so nothing outside the root is read.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path, PurePosixPath

MAX_LINKS = 40
MAX_FILE_BYTES = 4 * 1024 * 1024


class RootFS:
    """Read-only access to the tree under `root` as if it were `/`."""

    def __init__(self, root: str | Path = "/") -> None:
        self.root = Path(os.path.realpath(root))

    @property
    def is_host(self) -> bool:
        return self.root == Path("/")

    def host_path(self, inner: str | PurePosixPath) -> Path:
        """The host path of an already resolved path inside the root."""
        rel = str(inner).lstrip("/")
        return self.root / rel if rel else self.root

    def resolve(self, inner: str | PurePosixPath) -> PurePosixPath | None:
        """`inner` (a path inside the root) with every symlink resolved inside the root; None when a
        component is missing, a loop, or not a folder where one is needed."""
        parts = [p for p in str(inner).split("/") if p and p != "."]
        done: list[str] = []
        links = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = self.host_path("/" + "/".join([*done, part]))
            try:
                info = os.lstat(candidate)
            except (OSError, ValueError):
                return None
            if stat.S_ISLNK(info.st_mode):
                links += 1
                if links > MAX_LINKS:
                    return None
                try:
                    target = os.readlink(candidate)
                except OSError:
                    return None
                if target.startswith("/"):
                    done = []
                parts = [p for p in target.split("/") if p and p != "."] + parts
                continue
            if parts and not stat.S_ISDIR(info.st_mode):
                return None
            done.append(part)
        return PurePosixPath("/" + "/".join(done))

    def is_file(self, inner: str | PurePosixPath) -> bool:
        resolved = self.resolve(inner)
        return resolved is not None and self.host_path(resolved).is_file()

    def is_dir(self, inner: str | PurePosixPath) -> bool:
        resolved = self.resolve(inner)
        return resolved is not None and self.host_path(resolved).is_dir()

    def is_devnull(self, inner: str | PurePosixPath) -> bool:
        """A masked unit: a symlink to /dev/null (or an empty file named so)."""
        return self.resolve(inner) == PurePosixPath("/dev/null")

    def read_text(self, inner: str | PurePosixPath) -> str | None:
        """The file's text (undecodable bytes replaced), None when it is not a readable regular file."""
        resolved = self.resolve(inner)
        if resolved is None:
            return None
        host = self.host_path(resolved)
        try:
            fd = os.open(host, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(MAX_FILE_BYTES)
        except OSError:
            return None
        finally:
            os.close(fd)
        return data.decode("utf-8", errors="replace")

    def listdir(self, inner: str | PurePosixPath) -> list[str]:
        resolved = self.resolve(inner)
        if resolved is None:
            return []
        try:
            return sorted(os.listdir(self.host_path(resolved)))
        except OSError:
            return []

    def glob(self, pattern: str) -> list[PurePosixPath]:
        """Paths inside the root matching an absolute `pattern` (`*`, `?`, `[..]` per component; no `**`)."""
        parts = [p for p in pattern.split("/") if p]
        found = [PurePosixPath("/")]
        for part in parts:
            following: list[PurePosixPath] = []
            for base in found:
                if any(c in part for c in "*?["):
                    following.extend(base / n for n in self.listdir(base) if fnmatch.fnmatchcase(n, part))
                else:
                    following.append(base / part)
            found = following
        return sorted(p for p in found if self.resolve(p) is not None)

    def glob_all(self, patterns: tuple[str, ...] | list[str]) -> list[PurePosixPath]:
        seen: dict[PurePosixPath, None] = {}
        for pattern in patterns:
            seen.update(dict.fromkeys(self.glob(pattern)))
        return list(seen)

    def show(self, inner: str | PurePosixPath) -> str:
        """How a file inside the root is named in findings: its host path."""
        return str(self.host_path(inner)) if not self.is_host else str(inner)
