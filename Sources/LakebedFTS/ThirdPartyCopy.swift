import Foundation
public import LakebedCore

/// One HTTP third-party copy (WLCG HTTP-TPC: a WebDAV `COPY` with `Source:` or `Destination:`) between two storage
/// locations Lakebed holds. The storage element that took the `COPY` (the destination when it pulls, the source when
/// it pushes) hands the bytes to the transfer engine as a job of one file, so the copy moves on the link between the
/// two RSEs: latency, bandwidth shared with the link's other transfers, concurrency, failures and outages, on the lake
/// clock. The bytes land under a hidden partial name and are renamed into place once their size and adler32 check out;
/// a failed copy leaves nothing at the destination.
public struct ThirdPartyCopy: Sendable {
    /// Which end took the `COPY`: the destination pulls (`Source:` header), the source pushes (`Destination:`).
    public enum Mode: String, Sendable {
        case pull
        case push
    }

    /// Which end took the `COPY`.
    public var mode: Mode
    /// Where the bytes are read.
    public var source: StorageLocation
    /// Where the bytes are written.
    public var destination: StorageLocation
    /// The source as the client named it (FTS's `source_surl` in the job the engine runs).
    public var sourceURL: String
    /// The destination as the client named it.
    public var destinationURL: String
    /// Whether an existing destination file may be replaced (`Overwrite: T`).
    public var overwrite: Bool
    /// Who asked: the job's submitter (`user_dn` in FTS's job listing).
    public var submitter: String

    public init(
        mode: Mode, source: StorageLocation, destination: StorageLocation, sourceURL: String, destinationURL: String, overwrite: Bool,
        submitter: String
    ) {
        self.mode = mode
        self.source = source
        self.destination = destination
        self.sourceURL = sourceURL
        self.destinationURL = destinationURL
        self.overwrite = overwrite
        self.submitter = submitter
    }

    /// The copy as the engine runs it: sized and checksummed from the source bytes as they are now, so bytes that
    /// change before the copy lands fail it (`CHECKSUM MISMATCH`) rather than arrive silently different. The source
    /// always has a checksum here, so the copy is verified whatever `RequireChecksumVerification` says (as dCache does
    /// when the remote end supports RFC 3230).
    public func fileSpec() throws -> FTSFileSpec {
        // Both paths are vetted (inside their RSE's folder) before a byte is read.
        var spec = try FTSFileSpec(from: source, to: destination, sourceURL: sourceURL, destURL: destinationURL, bytes: 0, adler32: nil)
        let sums = try Checksums.ofFile(at: spec.sourcePath)
        spec.bytes = sums.bytes
        spec.adler32 = sums.adler32
        return spec
    }

    /// The job the engine runs, and its one file.
    public struct Submitted: Sendable, Equatable {
        /// FTS `job_id` (random, as FTS's REST jobs' are).
        public var jobID: String
        /// FTS `file_id` of the job's one file: `TransferEngine.file(_:)` tells its progress.
        public var fileID: Int
    }

    /// Hands the copy to the engine, which starts it at once (it waits for a slot when the link is full).
    public func submit(to engine: TransferEngine) async throws -> Submitted {
        let spec = try fileSpec()
        let job = await engine.submit(
            files: [spec], submitter: submitter, jobID: UUID().uuidString.lowercased(), verifyChecksum: "b",
            metadata: #"{"http_tpc": "\#(mode.rawValue)"}"#,
            overwrite: overwrite)
        try await engine.step()
        guard let fileID = job.fileIDs.first else { throw RucioError(.rucioException, "the transfer engine took no file") }
        return Submitted(jobID: job.jobID, fileID: fileID)
    }
}
