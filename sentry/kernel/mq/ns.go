package mq

import "moat/sentry/kernel"

// registryKey is the Kernel.Extension key of the sandbox's registry.
type registryKey struct{}

// For returns the message queue registry of k's sandbox (its IPC
// namespace), made on first use.
func For(k *kernel.Kernel) *Registry {
	return k.Extension(registryKey{}, func() any { return NewRegistry() }).(*Registry)
}
