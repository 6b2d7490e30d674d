module lastgasp.test/goid

go 1.22
