"""tessera.runtime"""
