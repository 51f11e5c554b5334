// Test wrapper: the read side of the AXI4 master -- three DMA readers (as fetch, load and
// compute use them) behind the read arbiter -- with each reader's request and data ports
// brought out for the testbench.
`default_nettype none

module tb_axi_master (
    input  wire                  clk_i,
    input  wire                  rst_ni,
    input  wire [2:0]            req_valid_i,
    input  wire [95:0]           req_addr_i,
    input  wire [95:0]           req_beats_i,
    output wire [2:0]            req_ready_o,
    output wire [2:0]            d_valid_o,
    output wire [3*BUS_BITS-1:0] d_data_o,
    input  wire [2:0]            d_ready_i,
    output wire [2:0]            quiet_o,
    output wire [2:0]            bus_err_o,
    output wire [0:0]            m_axi_arid,
    output wire [31:0]           m_axi_araddr,
    output wire [7:0]            m_axi_arlen,
    output wire [2:0]            m_axi_arsize,
    output wire [1:0]            m_axi_arburst,
    output wire                  m_axi_arlock,
    output wire [3:0]            m_axi_arcache,
    output wire [2:0]            m_axi_arprot,
    output wire                  m_axi_arvalid,
    input  wire                  m_axi_arready,
    input  wire [0:0]            m_axi_rid,
    input  wire [BUS_BITS-1:0]   m_axi_rdata,
    input  wire [1:0]            m_axi_rresp,
    input  wire                  m_axi_rlast,
    input  wire                  m_axi_rvalid,
    output wire                  m_axi_rready
);
`include "tessera_params.vh"

  wire [2:0]  ar_valid, ar_ready, r_valid, r_ready;
  wire [95:0] ar_addr;
  wire [23:0] ar_len;

  genvar u;
  generate
    for (u = 0; u < 3; u = u + 1) begin : g_user
      tessera_dma_reader u_dma (
        .clk_i(clk_i), .rst_ni(rst_ni), .clear_i(1'b0), .halt_i(1'b0),
        .req_valid_i(req_valid_i[u]), .req_addr_i(req_addr_i[u*32 +: 32]),
        .req_beats_i(req_beats_i[u*32 +: 32]), .req_ready_o(req_ready_o[u]),
        .credit_i(16'hffff),
        .ar_valid_o(ar_valid[u]), .ar_addr_o(ar_addr[u*32 +: 32]), .ar_len_o(ar_len[u*8 +: 8]),
        .ar_ready_i(ar_ready[u]), .r_valid_i(r_valid[u]), .r_data_i(m_axi_rdata),
        .r_last_i(m_axi_rlast), .r_resp_i(m_axi_rresp), .r_ready_o(r_ready[u]),
        .d_valid_o(d_valid_o[u]), .d_data_o(d_data_o[u*BUS_BITS +: BUS_BITS]),
        .d_ready_i(d_ready_i[u]), .quiet_o(quiet_o[u]), .bus_err_o(bus_err_o[u])
      );
    end
  endgenerate

  tessera_axi_rd_arbiter u_arb (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .ar_valid_i(ar_valid), .ar_addr_i(ar_addr), .ar_len_i(ar_len), .ar_ready_o(ar_ready),
    .r_valid_o(r_valid), .r_ready_i(r_ready),
    .m_axi_arid(m_axi_arid), .m_axi_araddr(m_axi_araddr), .m_axi_arlen(m_axi_arlen),
    .m_axi_arsize(m_axi_arsize), .m_axi_arburst(m_axi_arburst), .m_axi_arlock(m_axi_arlock),
    .m_axi_arcache(m_axi_arcache), .m_axi_arprot(m_axi_arprot),
    .m_axi_arvalid(m_axi_arvalid), .m_axi_arready(m_axi_arready), .m_axi_rid(m_axi_rid),
    .m_axi_rlast(m_axi_rlast), .m_axi_rvalid(m_axi_rvalid), .m_axi_rready(m_axi_rready)
  );
endmodule

`default_nettype wire
