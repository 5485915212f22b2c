/** @backplane/virtual-switch — a learning Ethernet switch for the NICs of several VMs. */
export { VirtualSwitch, type VirtualSwitchOptions } from "./virtual-switch.js";
