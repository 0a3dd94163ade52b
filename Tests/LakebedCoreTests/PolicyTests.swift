import Foundation
import GRDB
import LakebedTesting
import Testing

@testable import LakebedCore

/// Each policy's schema against names from Rucio's own schema tests (tests/test_schema_cms.py for CMS) and the
/// patterns of the schemas; lfn2pfn algorithms; a catalog keeps its policy.
@Suite("Experiment policies")
struct PolicyTests {
    let root = Issuer(account: "root", identity: "ddmlab", isAdmin: true)
    let cms = Policy(.cms).schema

    func refused(_ body: () throws -> Void) -> Bool {
        do { try body() } catch let e as RucioError { return e.exceptionClass == .invalidObject } catch { return false }
        return false
    }

    @Test func genericStaysAsBefore() throws {
        let g = Policy.generic.schema
        try g.checkName("file_1.root")
        try g.checkScope("user.jdoe")
        try g.checkRSE("SITE-A")
        try g.checkAccount("jdoe")
        #expect(refused { try g.checkName("/store/mc/f.root") })
        #expect(refused { try g.checkName("x") })
        #expect(refused { try g.checkRSE("T1_US_FNAL_Disk") })
        #expect(refused { try g.checkDID(scope: "cms", name: "/A/B/RAW#1", type: .dataset) })
        do { try g.checkName("a/b") } catch let e as RucioError {
            #expect(
                e.message
                    == "Provided object does not match schema. Details: Problem validating name : 'a/b' does not match '^[A-Za-z0-9][A-Za-z0-9\\.\\-\\_]{1,250}$'"
            )
        }
        #expect(g.activities == Validation.ruleActivities)
    }

    @Test func cmsSiteNames() {
        for good in ["T2_US_Nebraska", "T1_US_FNAL_Disk", "T2_CH_CERN_Temp", "T0_CH_CERN_Disk"] { #expect(cms.isValidRSE(good), "\(good)") }
        for bad in ["T1_US", "T1_US_", "T1_US_FNAL__Disk", "T2_US_Nebraska-Subpart", "T2_FR_GRIF-LLR", "T4_FR_GRIF_LLR", "SITE-A"] {
            #expect(!cms.isValidRSE(bad), "\(bad)")
        }
    }

    static let goodDatasets = [
        "/ZPrimeToTTJets_M500GeV_W5GeV_TuneZ2star_8TeV-madgraph-tauola/StoreResults-Summer12_DR53X-PU_S10_START53_V7A-v1_TLBSM_53x_v3_bugfix_v1/USER",
        "/DoubleMu/aburgmei-Run2012A_22Jan2013_v1_RHembedded_trans1_tau121_ptelec1_17elec2_8_v4/USER",
    ]
    static let goodBlocks = goodDatasets.map { $0 + "#620a38a9-29ba-4af4-b650-e2ba07d133f3" }
    static let goodLFNs = [
        "/store/mc/Fall10/DYToMuMu_M-20_TuneZ2_7TeV-pythia6/AODSIM/START38_V12-v1/0003/C0F3344F-6EC8-DF11-8ED6-E41F13181020.root",
        "/store/temp/user/cinquilli.nocern/Higgs-123/PrivateSample/v1/1000/a_X-2.root",
        "/store/data/Run2010A/Cosmics/RECO/v4/000/143/316/0000/F65F4AFE-14AC-DF11-B3BE-00215E21F32E.root",
        "/store/lhe/10860/LQToUE_BetaHalf_vector_YM-MLQ300LG0KG0.lhe.xz",
    ]
    static let badLFNs = [
        "/store/temp/lustre/acquisition_;10-A/MuElectron-10_100/RAW-RECO/vX-1/1000/a_X-2.root",
        "/store/temp/user/ewv/Higgs-123/PrivateSample/v1#/a_X-2.root",
        "/root/store/temp/user/ewv/Higgs-123/PrivateSample/v1#/a_X-2.root",
        "/store/lhe/10860/11%11/1111/LQToUE_BetaHalf_vector_YM-MLQ300LG0KG0.lhe.xz",
        "/store/user/ewv/Higgs-123/PrivateSample/v1/1000/a_X-2.root",
        "/store/group/Exotica/Higgs-123/PrivateSample/v1/1000/a_X-2.root",
    ]

    @Test func cmsDIDsByType() throws {
        for ds in Self.goodDatasets {
            try cms.checkDID(scope: "cms", name: ds, type: .container)
            try cms.checkDID(scope: "user.jdoe", name: ds, type: .container)
            #expect(refused { try cms.checkDID(scope: "cms", name: ds, type: .dataset) })
            #expect(refused { try cms.checkDID(scope: "cms", name: ds, type: .file) })
        }
        for block in Self.goodBlocks {
            try cms.checkDID(scope: "cms", name: block, type: .dataset)
            #expect(refused { try cms.checkDID(scope: "cms", name: block, type: .container) })
            #expect(refused { try cms.checkDID(scope: "cms", name: block, type: .file) })
        }
        for bad in ["/ZPrimeToTTJets/StoreResults|Summer12_DR53X-P", "/_DoubleMu/aburgme/USER1f1eee22-cdee-0f1b-271b-77a7f559e7dd"] {
            #expect(refused { try cms.checkDID(scope: "cms", name: bad, type: .container) }, "\(bad)")
            #expect(refused { try cms.checkDID(scope: "cms", name: bad, type: .dataset) }, "\(bad)")
        }
        for lfn in Self.goodLFNs {
            try cms.checkDID(scope: "cms", name: lfn, type: .file)
            #expect(refused { try cms.checkDID(scope: "cms", name: lfn, type: .dataset) })
        }
        for lfn in Self.badLFNs { #expect(refused { try cms.checkDID(scope: "cms", name: lfn, type: .file) }, "\(lfn)") }
    }

    @Test func cmsScopesAndTheirNamespaces() throws {
        for good in ["cms", "user.ewv", "user.ewv2", "logs", "group.higgs"] { try cms.checkScope(good) }
        for bad in ["user.e01234567890123456789", "higgs", "csm", "test", "user.root/x"] { #expect(refused { try cms.checkScope(bad) }, "\(bad)") }
        let userLFN = "/store/user/rucio/ewv/Higgs-123/PrivateSample/v1/1000/a_X-2.root"
        try cms.checkDID(scope: "user.ewv", name: userLFN, type: .file)
        #expect(refused { try cms.checkDID(scope: "user.ewv", name: Self.goodLFNs[0], type: .file) })  // user scope, CMS file
        #expect(refused { try cms.checkDID(scope: "cms", name: userLFN, type: .file) })  // CMS scope, user file
        #expect(refused { try cms.checkDID(scope: "user.jdoe", name: userLFN, type: .file) })  // someone else's
        #expect(refused { try cms.checkDID(scope: "logs", name: Self.goodLFNs[0], type: .file) })
        try cms.checkDID(scope: "logs", name: "/store/logs/prod/2026/06/log.tar.gz", type: .file)
    }

    @Test func cmsUserScopesHoldOnlyUserCollections() throws {
        let p = Policy(.cms).permission
        #expect(p.collectionNameAllowed(scope: "user.jdoe", name: "/A/B/USER", type: .container))
        #expect(p.collectionNameAllowed(scope: "user.jdoe", name: "/A/B/USER#1", type: .dataset))
        #expect(!p.collectionNameAllowed(scope: "user.jdoe", name: "/A/B/AOD", type: .container))
        #expect(p.collectionNameAllowed(scope: "cms", name: "/A/B/AOD", type: .container))
        do {
            try p.requireAddCollection(scope: "user.jdoe", name: "/A/B/AOD#1", type: .dataset, owner: "jdoe", root)
            Issue.record("root added a non-USER block in a user scope")
        } catch let e as RucioError { #expect(e.exceptionClass == .accessDenied) }
        try Policy.generic.permission.requireAddCollection(scope: "user.jdoe", name: "ds", type: .dataset, owner: "jdoe", root)
    }

    @Test func belleiiAtlasEscapeSchemas() throws {
        let b = Policy(.belleii).schema
        try b.checkName(
            "/belle/MC/release-06-00-08/DB00002100/MC15ri_b/prod00024821/s00/e1003/4S/r00000/mixed/mdst/sub00/mdst_000001_prod00024821_task10020000001.root"
        )
        #expect(refused { try b.checkName("mdst_000001.root") })  // not absolute
        for good in ["DESY-DE", "KEK-TMP-SE", "BNL-OS", "DESYDE"] { #expect(b.isValidRSE(good), "\(good)") }
        for bad in ["desy-de", "1DESY", "DESY_DE", "-DESY"] { #expect(!b.isValidRSE(bad), "\(bad)") }
        // Rucio's pattern nests quantifiers; the equivalent one answers at once on a long refused name.
        let long = String(repeating: "A", count: 5000) + "_"
        #expect(!b.isValidRSE(long))
        #expect(b.activities.contains("Raw Export") && !b.activities.contains("Data Brokering"))

        let a = Policy(.atlas).schema
        try a.checkDID(
            scope: "data18_13TeV", name: "data18_13TeV.00348885.physics_Main.deriv.DAOD_PHYS.f937_m1972_p5855_tid31576004_00", type: .dataset)
        try a.checkRSE("CERN-PROD_DATADISK")
        #expect(a.activities.contains("Functional Test WebDAV") && !Policy.generic.schema.activities.contains("Functional Test WebDAV"))

        let e = Policy(.escape).schema
        try e.checkAccount("JDoe")
        #expect(refused { try Policy.generic.schema.checkAccount("JDoe") })
        #expect(e.activities.contains("DAC21"))
    }

    @Test func lfn2pfnAlgorithms() throws {
        let cmsPolicy = Policy(.cms)
        #expect(try cmsPolicy.lfn2pfnPath(algorithm: "cmstfc", scope: "cms", name: "/store/data/a//b.root") == "store/data/a/b.root")
        #expect(LFN2PFN.cmstfc.path(scope: "cms", name: "//store/user/rucio//ewv/f.root") == "/store/user/rucio/ewv/f.root")
        #expect(LFN2PFN.belleii.path(scope: "mc", name: "/belle/MC/f.root") == "/belle/MC/f.root")
        #expect(LFN2PFN.lsst.path(scope: "lsst", name: "raw__2026__f.fits") == "raw/2026/f.fits")
        let h = md5Hex("cms:/store/a.root")
        #expect(
            try cmsPolicy.lfn2pfnPath(algorithm: nil, scope: "cms", name: "/store/a.root")
                == "cms/\(h.prefix(2))/\(h.dropFirst(2).prefix(2))/store/a.root")
        #expect(try Policy(.belleii).lfn2pfnPath(algorithm: "default", scope: "mc", name: "/belle/x") == "belle/x")
        #expect(try Policy.generic.lfn2pfn(nil) == .hash)
        #expect(refused { _ = try Policy.generic.lfn2pfn("tfc-of-my-own") })
    }

    @Test func aCatalogKeepsItsPolicy() async throws {
        let dir = TemporaryLake.folder("policy")
        do {
            let c = try Catalog(dataDir: dir, clock: VirtualClock.manual(), policy: .cms)
            #expect(c.policy.name == .cms)
            try await DefaultLake.seedRoot(c)
            #expect(try await c.scopes.listScopes() == ["user.root"])  // CMS has no `test` scope
            try await c.scopes.addScope("cms", account: "root", by: root)
            try await c.rses.addRSE("T1_US_FNAL_Disk", readyMade: true, by: nil)
            try await c.rses.addRSEAttribute("T1_US_FNAL_Disk", key: "lfn2pfn_algorithm", value: "cmstfc", by: nil)
            try await c.dids.addCollection(scope: "cms", name: "/ZMM/Run2026A-v1/RAW#1", type: .dataset, issuer: root)
            let rse = try await c.rses.rse("T1_US_FNAL_Disk")
            #expect(try c.replicas.lfn2pfnPath(rse: rse, scope: "cms", name: "/store/data/f.root") == "store/data/f.root")
            do {
                try await c.rses.addRSE("SITE-A", by: root)
                Issue.record("a cms lake took SITE-A")
            } catch let e as RucioError { #expect(e.exceptionClass == .invalidObject) }
        }
        #expect(try Catalog(dataDir: dir, clock: VirtualClock.manual()).policy.name == .cms)
        #expect(throws: PolicyMismatch.self) { try Catalog(dataDir: dir, clock: VirtualClock.manual(), policy: .atlas) }
        // A catalog from before policies that holds a lake is generic.
        let old = TemporaryLake.folder("policy-old")
        do {
            let c = try Catalog(dataDir: old, clock: VirtualClock.manual())
            try await DefaultLake.seedRoot(c)
            try await c.db.write { db in try db.execute(sql: "DELETE FROM lake_policy") }
        }
        #expect(try Catalog(dataDir: old, clock: VirtualClock.manual()).policy.name == .generic)
        #expect(throws: PolicyMismatch.self) { try Catalog(dataDir: old, clock: VirtualClock.manual(), policy: .cms) }
    }

    @Test func rseExpressionsTakeEveryPolicysRSENames() throws {
        for word in ["T1_US_FNAL_Disk", "DESY-DE", "SITE-A", "site_a"] { _ = try RSEExpression.parse(word) }
        _ = try RSEExpression.parse("T1_US_FNAL_Disk|T2_DE_DESY")
        #expect(throws: (any Error).self) { try RSEExpression.parse("T1__X") }
    }
}
