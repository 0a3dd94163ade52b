public import Foundation

/// Files only the lake's user may read (mode 0600), replaced whole: the bytes go to `<path>.tmp`, are flushed to disk,
/// then renamed over `path`, so a crash leaves the old file or the new one, never half of either.
public enum PrivateFile {
    /// Writes `data` to `path` as described above.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: temp)
        else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temp])
        }
        try handle.synchronize()
        try handle.close()
        guard rename(temp, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }
}
