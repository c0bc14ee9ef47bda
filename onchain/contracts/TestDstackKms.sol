// SPDX-License-Identifier: Apache-2.0
//
// A test stand-in for the dstack KMS contract, written for this SDK. It is
// ABI-compatible with the parts of DstackKms that a client reads (facts
// from Dstack-TEE/dstack kms/auth-eth/contracts): the public getter
// kmsInfo() returning (bytes k256Pubkey, bytes caPubkey, bytes quote,
// bytes eventlog), setKmsInfo((bytes,bytes,bytes,bytes)),
// registeredApps(address), registerApp(address), owner(), and the events
// KmsInfoSet(bytes) and AppRegistered(address). Tests only.
pragma solidity 0.8.37;

contract TestDstackKms {
    struct KmsInfo {
        bytes k256Pubkey;
        bytes caPubkey;
        bytes quote;
        bytes eventlog;
    }

    address public owner;
    KmsInfo public kmsInfo;
    mapping(address => bool) public registeredApps;

    event KmsInfoSet(bytes k256Pubkey);
    event AppRegistered(address appId);

    error OwnableUnauthorizedAccount(address account);

    constructor(address kmsOwner, bytes memory rootPubkey) {
        owner = kmsOwner;
        kmsInfo.k256Pubkey = rootPubkey;
        emit KmsInfoSet(rootPubkey);
    }

    function setKmsInfo(KmsInfo memory info) external {
        if (msg.sender != owner) {
            revert OwnableUnauthorizedAccount(msg.sender);
        }
        kmsInfo = info;
        emit KmsInfoSet(info.k256Pubkey);
    }

    function registerApp(address appId) external {
        require(appId != address(0), "zero app id");
        registeredApps[appId] = true;
        emit AppRegistered(appId);
    }
}
