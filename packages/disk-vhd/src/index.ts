/** @backplane/disk-vhd — Microsoft VHD (Virtual Hard Disk Image Format Specification 1.0) fixed, dynamic and differencing images. */
export {};
