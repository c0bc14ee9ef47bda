// SPDX-License-Identifier: Apache-2.0
//
// A test stand-in for the dstack app contract, written for this SDK. It is
// ABI-compatible with the functions and events of DstackApp that Phala
// Cloud clients use (signatures taken as facts from @phala/cloud 0.2.9's
// appAuthAbi/dstackAppAbi and Dstack-TEE/dstack kms/auth-eth/contracts):
// addComposeHash(bytes32), removeComposeHash(bytes32),
// allowedComposeHashes(bytes32), addDevice(bytes32), removeDevice(bytes32),
// allowedDeviceIds(bytes32), setAllowAnyDevice(bool), allowAnyDevice(),
// owner(), requireTcbUpToDate(), setRequireTcbUpToDate(bool) (newer
// DstackApp versions: isAppAllowed then refuses a boot whose TCB status is
// not "UpToDate"), the events ComposeHashAdded, ComposeHashRemoved,
// DeviceAdded, DeviceRemoved, AllowAnyDeviceSet, RequireTcbUpToDateSet and
// the error
// OwnableUnauthorizedAccount(address). It is not upgradeable and sets its
// state in the constructor; it is for tests only.
pragma solidity 0.8.37;

contract TestDstackApp {
    address public owner;
    bool public allowAnyDevice;
    bool public requireTcbUpToDate;
    mapping(bytes32 => bool) public allowedComposeHashes;
    mapping(bytes32 => bool) public allowedDeviceIds;

    event ComposeHashAdded(bytes32 composeHash);
    event ComposeHashRemoved(bytes32 composeHash);
    event DeviceAdded(bytes32 deviceId);
    event DeviceRemoved(bytes32 deviceId);
    event AllowAnyDeviceSet(bool allowAny);
    event RequireTcbUpToDateSet(bool requireUpToDate);

    error OwnableUnauthorizedAccount(address account);

    modifier onlyOwner() {
        if (msg.sender != owner) {
            revert OwnableUnauthorizedAccount(msg.sender);
        }
        _;
    }

    constructor(address appOwner, bool anyDevice, bytes32 firstDevice, bytes32 firstHash) {
        owner = appOwner;
        allowAnyDevice = anyDevice;
        if (firstDevice != bytes32(0)) {
            allowedDeviceIds[firstDevice] = true;
            emit DeviceAdded(firstDevice);
        }
        if (firstHash != bytes32(0)) {
            allowedComposeHashes[firstHash] = true;
            emit ComposeHashAdded(firstHash);
        }
    }

    function addComposeHash(bytes32 composeHash) external onlyOwner {
        allowedComposeHashes[composeHash] = true;
        emit ComposeHashAdded(composeHash);
    }

    function removeComposeHash(bytes32 composeHash) external onlyOwner {
        allowedComposeHashes[composeHash] = false;
        emit ComposeHashRemoved(composeHash);
    }

    function addDevice(bytes32 deviceId) external onlyOwner {
        allowedDeviceIds[deviceId] = true;
        emit DeviceAdded(deviceId);
    }

    function removeDevice(bytes32 deviceId) external onlyOwner {
        allowedDeviceIds[deviceId] = false;
        emit DeviceRemoved(deviceId);
    }

    function setAllowAnyDevice(bool anyDevice) external onlyOwner {
        allowAnyDevice = anyDevice;
        emit AllowAnyDeviceSet(anyDevice);
    }

    function setRequireTcbUpToDate(bool requireUpToDate) external onlyOwner {
        requireTcbUpToDate = requireUpToDate;
        emit RequireTcbUpToDateSet(requireUpToDate);
    }
}
