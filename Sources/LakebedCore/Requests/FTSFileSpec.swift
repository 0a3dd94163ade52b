import Foundation

/// One file to move, as FTS takes it: where from, where to, and what the bytes must check out as. The conveyor's
/// submitter makes these from transfer requests and FTS's REST API from a job's files: one shape from the request to FTS.
public struct FTSFileSpec: Sendable, Equatable {
    /// Where the bytes come from, as submitted (FTS `source_surl`): a `file://` URL or Lakebed's `/storage/<RSE>/…` HTTP URL.
    public var sourceURL: String
    /// Where the bytes go, as submitted (FTS `dest_surl`).
    public var destURL: String
    /// Endpoint names used for the link (RSE names when the URLs are inside an RSE).
    public var sourceSE: String
    /// Destination endpoint name used for the link (FTS `dest_se`); the RSE name the destination URL lies in.
    public var destSE: String
    /// Absolute paths on this machine.
    public var sourcePath: String
    /// Absolute path on this machine the bytes are copied to (via a hidden partial file beside it, `RSEStorage.partialPath`, then renamed).
    public var destPath: String
    /// File size in bytes (FTS `filesize`); a 0 skips the size check after the copy.
    public var bytes: Int64
    /// Expected adler32 (hex), checked on the destination when set.
    public var adler32: String?
    /// True for a virtual replica: the transfer takes its time on the link but no bytes are copied.
    public var isVirtual: Bool
    /// FTS activity share the file was submitted under (Rucio's rule activity); only reported back, never scheduled on.
    public var activity: String
    /// Per-file `metadata` from a REST submission, as JSON text (FTS `file_metadata`); nil for conveyor submissions.
    public var metadata: String?
    /// The Rucio request this file serves (nil for jobs submitted directly to FTS).
    public var requestID: String?
    /// The job priority the file asks for (the rule's; FTS's default 3 for direct submissions); a bulk job takes its files' highest.
    public var priority: Int
    /// Scope of the DID the file is, for event logs; nil for jobs submitted directly to FTS.
    public var scope: String?
    /// Name of the DID the file is, for event logs; nil for jobs submitted directly to FTS.
    public var name: String?

    public init(
        sourceURL: String, destURL: String, sourceSE: String, destSE: String, sourcePath: String, destPath: String,
        bytes: Int64, adler32: String? = nil, isVirtual: Bool = false, activity: String = "default", metadata: String? = nil,
        requestID: String? = nil, priority: Int = 3, scope: String? = nil, name: String? = nil
    ) {
        self.sourceURL = sourceURL
        self.destURL = destURL
        self.sourceSE = sourceSE
        self.destSE = destSE
        self.sourcePath = sourcePath
        self.destPath = destPath
        self.bytes = bytes
        self.adler32 = adler32
        self.isVirtual = isVirtual
        self.activity = activity
        self.metadata = metadata
        self.requestID = requestID
        self.priority = priority
        self.scope = scope
        self.name = name
    }
}

extension FTSFileSpec {
    /// One file from a storage location Lakebed holds to another, as FTS's REST jobs and WebDAV's third-party `COPY`
    /// submit it: the link is the two RSEs, and both paths stay inside their RSE's folder (a relative path that leaves
    /// it, or a symbolic link pointing out of it, throws).
    public init(
        from source: StorageLocation, to destination: StorageLocation, sourceURL: String, destURL: String, bytes: Int64, adler32: String?,
        activity: String = "default", metadata: String? = nil
    ) throws {
        let sourcePath = try source.absolute()
        let destPath = try destination.absolute()
        for (location, path) in [(source, sourcePath), (destination, destPath)] {
            let root = StorageRoots.resolved(location.rse.root)
            let real = StorageRoots.resolved(path)
            guard real == root || real.hasPrefix(root + "/") else {
                throw RucioError.invalidPath("Path '\(Validation.printable(location.relative))' leaves the storage of \(location.rse.rse)")
            }
        }
        self.init(
            sourceURL: sourceURL, destURL: destURL, sourceSE: source.rse.rse, destSE: destination.rse.rse, sourcePath: sourcePath,
            destPath: destPath, bytes: bytes, adler32: adler32, activity: activity, metadata: metadata)
    }
}
