import Foundation
import LakebedCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One running lake per data folder: an exclusive `flock` on `<data>/.lock`, held while the process lives (the
/// kernel drops it when the process ends, even by `kill -9`). The file names the holder's pid for the next one.
final class DataFolderLock: Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Takes the folder's lock, or says which process holds it.
    static func take(_ dataDir: String) throws -> DataFolderLock {
        let path = (dataDir as NSString).appendingPathComponent(".lock")
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LakeOpenError(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            let endpoints = FileManager.default.contents(atPath: (dataDir as NSString).appendingPathComponent("endpoints.json"))
            let url = endpoints.flatMap { try? JSONParser.parse(Array($0)) }?.objectValue?["url"]?.stringValue
            throw LakeOpenError(
                description: """
                    \(dataDir) is in use by another lakebed (\(holder.isEmpty ? "pid unknown" : "pid \(holder)")\(url.map { ", at \($0)" } ?? "")). \
                    Stop it first, or give this one another --data-dir.
                    """)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { write(fd, $0, strlen($0)) }
        return DataFolderLock(fd: fd)
    }

    /// Whether a running lake holds the folder's lock (false when there is no lock file, or nobody holds it).
    static func isHeld(_ dataDir: String) -> Bool {
        let fd = open((dataDir as NSString).appendingPathComponent(".lock"), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    deinit { close(fd) }
}
